// The report of the depth sanity check (docs/sanity-check.md): what was measured at each depth,
// the depth laws fitted to it (depth_scaling.hpp), and its two readings, a verdict table for a
// terminal and JSON. The measurements themselves are taken by the driver (train/sanity_check.hpp).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "diag/depth_scaling.hpp"
#include "diag/stack_measure.hpp"

namespace normlab {

// What the check measures: which depths, how long it trains, over how much it averages.
struct SanityOptions {
  std::vector<int> depths = {2, 4, 8, 16, 32, 64};
  int train_steps = 50;  // 0: measure at initialisation only
  int init_seeds = 2;    // initialisations averaged at step 0
  int batches = 2;       // measurement batches per model
};

struct DepthResult {
  int depth = 0;
  StackMeasure init, trained;
  double first_loss = 0, last_loss = 0;  // training losses at step 1 and the last step
  double seconds = 0;
};

struct SanityReport {
  nlohmann::json config;  // the effective config (n_layers varies with the depth)
  SanityOptions options;
  std::string data;         // the data's description
  std::string init_scheme;  // the initialisation `init` resolved to (never "auto")
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
