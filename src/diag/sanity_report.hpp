// The report of the depth sanity check (docs/sanity-check.md): what was measured at each depth,
// the depth laws fitted to it (depth_scaling.hpp), and its two readings, a verdict table for a
// terminal and JSON. The measurements themselves are taken by the driver (train/sanity_check.hpp).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "diag/coord_check.hpp"
#include "diag/depth_scaling.hpp"
#include "diag/outcome_prediction.hpp"
#include "diag/stack_measure.hpp"

namespace normlab {

// What the check measures: which depths, how long it trains, over how much it averages.
struct SanityOptions {
  std::vector<int> depths = {2, 4, 8, 16, 32, 64};
  int train_steps = 200;  // 0: measure at initialisation only
  int batch_size = 4;     // sequences per micro-batch of the trial and the measurements
  int init_seeds = 2;     // initialisations averaged at step 0
  int batches = 4;        // measurement batches per model
};

struct DepthResult {
  int depth = 0;
  StackMeasure init, trained;              // init describes the architecture, not its trainability
  double first_loss = 0, last_loss = 0;    // training losses at step 1 and the last step
  std::vector<double> trial_loss;          // the trial's training loss at every step (its curve)
  std::vector<double> trial_unigram_loss;  // the unigram model's loss on each step's batches
  TrialEvidence evidence;                  // of the short trial (train_steps > 0)
  OutcomePrediction prediction;            // read from the evidence
  std::vector<CoordStep> coord;            // coordinate check at kCoordCheckSteps
  double seconds = 0;
};

struct SanityReport {
  nlohmann::json config;  // the effective config (n_layers varies with the depth)
  SanityOptions options;
  std::string data;         // the data's description
  std::string init_scheme;  // the initialisation `init` resolved to (never "auto")
  double unigram_loss = 0;  // of the training tokens
  int trial_warmup = 0;     // the config's warmup compressed to the trial's steps
  std::vector<DepthResult> depths;
  DepthScaling forward_init, backward_init, forward_trained, backward_trained;
};

// Fits the forward and backward ratios of r.depths over the depths (the trained ones only when
// the check trained). A forward that overflowed (inf or NaN at the top) counts as unbounded.
void fit_depth_laws(SanityReport& r);

// One line on a depth's measurements, for progress output while the check runs.
std::string depth_line(const DepthResult& d, int train_steps);

// The verdict table (depth rows, then one verdict line per measured state and direction).
std::string format_report(const SanityReport& r);
nlohmann::json report_json(const SanityReport& r);

}  // namespace normlab
