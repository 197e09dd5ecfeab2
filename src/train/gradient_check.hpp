// The checking interface (`normlab grad`, docs/model.md): the loss and every parameter's
// gradient of a saved model on one batch given as text, optionally after N AdamW steps on that
// batch, for comparison with an independent implementation (tests/reference/).
#pragma once
#include <string>

#include "core/config.hpp"

namespace normlab {

struct GradientCheckRequest {
  std::string model_path;   // .safetensors checkpoint
  std::string tokens_path;  // token rows (data/token_rows.hpp)
  std::string out_path;     // gradients, .safetensors
  std::string diag_path;    // optional: the probes of the final forward/backward, as JSON
  int adamw_steps = 0;      // AdamW steps on the batch before the final gradient
};

// Writes the gradients of the final parameters under the parameters' names, with metadata
// "loss" (9 significant digits) and, after AdamW steps, "losses" (the N + 1 losses before each
// step and after the last). `run` gives the optimizer settings (constant lr) and
// label_smoothing ('auto' follows the checkpoint's arch). Matmuls run in f32 whatever
// 'precision' says. Returns the final loss.
double run_gradient_check(const Config& run, const GradientCheckRequest& request);

// The loss as the checking interface prints and stores it: %.9g.
std::string format_loss(double loss);

}  // namespace normlab
