// The depth sanity check of a block design (Kan et al. 2025, arXiv 2510.09904, Sec. "sanity
// check"): read the stack as x_{l+1} = x_l + dt*f(x_l) and ask, by building the same design at
// several depths L, how the hidden state grows with L (forward stability: bounded, linear or
// exponential) and how the gradient at the bottom compares with the gradient at the top
// (backward stability: vanishing, flat or exploding). Measured at initialisation and after a
// short training run; thresholds and the fits are documented in docs/sanity-check.md.
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/config.hpp"

namespace normlab {

// Least squares y = intercept + slope * x.
struct LineFit {
  double intercept = 0, slope = 0, rss = 0;
};
LineFit fit_line(const std::vector<double>& x, const std::vector<double>& y);

// The three depth laws fitted to log(ratio) over the finite, positive measurements:
//   exponential  log r = a + rate * L        (r multiplies by e^rate per block)
//   power        log r = a + power * log L   (r ~ L^power; linear growth is power 1)
//   constant     log r = a                   (bounded)
// and the affine law r = a + k L (fitted on relative error, its residuals taken in log space).
struct DepthScaling {
  int points = 0;  // finite measurements used by the fits
  int min_depth = 0, max_depth = 0;
  LineFit exponential, power;
  double constant_rss = 0, affine_rss = 0;
  bool overflow = false;  // a measurement was +inf (or the forward overflowed to NaN)
};
DepthScaling fit_depth_scaling(const std::vector<int>& depths, const std::vector<double>& ratios);

enum class ForwardClass { Bounded, Linear, Exponential, Undetermined };
enum class BackwardClass { Vanishing, Flat, Exploding, Undetermined };
ForwardClass classify_forward(const DepthScaling& s);
BackwardClass classify_backward(const DepthScaling& s);
const char* to_string(ForwardClass c);
const char* to_string(BackwardClass c);

// One measurement of the stack: forward = rms(x_L) / rms(x_0) (x_L before any final norm, x_0
// the input of block 1); backward = |dLoss/dx_0| / |dLoss/dx_{L-1}| (bottom versus top block
// input). Geometric means over the measured batches (and seeds at initialisation).
struct StackMeasure {
  double forward = 0, backward = 0;
  double top_rms = 0, bottom_rms = 0, grad_bottom = 0, grad_top = 0, loss = 0;
};

struct DepthResult {
  int depth = 0;
  StackMeasure init, trained;
  double first_loss = 0, last_loss = 0;  // training losses at step 1 and the last step
  double seconds = 0;
};

struct SanityOptions {
  std::vector<int> depths = {2, 4, 8, 16, 32, 64};
  int train_steps = 50;  // 0: measure at initialisation only
  int init_seeds = 2;    // initialisations averaged at step 0
  int batches = 2;       // measurement batches per model
  // Called with one line per depth (the CLI prints it to stderr).
  std::function<void(const std::string&)> progress;
};

struct SanityReport {
  nlohmann::json config;  // the effective config (n_layers varies with the depth)
  SanityOptions options;
  std::string data;         // the data's description
  std::string init_scheme;  // the initialisation `init` resolved to (never "auto")
  std::vector<DepthResult> depths;
  DepthScaling forward_init, backward_init, forward_trained, backward_trained;
};

// Runs the check for `config` (n_layers is replaced by each depth) on windows of `tokens`
// (ids < vocab_size). Throws UserError for an empty depth list or a depth below 1.
SanityReport run_sanity_check(const Config& config, const SanityOptions& options,
                              const std::vector<int32_t>& tokens, const std::string& data_label);

// `n` tokens from a fixed random bigram (Markov) chain over `vocab` ids: each id has four
// successors drawn once from `seed`, taken with probabilities 0.55, 0.25, 0.12 and 0.08, so a
// model can learn the chain (its entropy is 1.68 nats, far below log(vocab)).
std::vector<int32_t> markov_tokens(int vocab, size_t n, uint64_t seed);

// The verdict table (depth rows, then one verdict line per measured state and direction).
std::string format_report(const SanityReport& r);
nlohmann::json report_json(const SanityReport& r);

}  // namespace normlab
