// The coordinate check (microsoft/mup's coord check; CompleteP, Dey et al. 2025, over depth):
// the size of every block's activations and of its update at a few fixed steps of the check's
// short run. Drawn against the depth (normlab report), a well-parametrised design keeps these
// curves flat as L grows: an activation that grows with L is a forward instability, an update
// that shrinks with L a block that stops learning.
#pragma once
#include <nlohmann/json.hpp>
#include <vector>

namespace normlab {

// The steps at which the check records a coordinate-check row (those within its run).
inline const std::vector<int> kCoordCheckSteps = {1, 5, 20, 50};

struct CoordBlock {
  double input_rms = 0;                  // rms of the stream entering the block
  std::vector<double> sublayer_out_rms;  // rms of each sublayer's F(u), bottom sublayer first
  double update_ratio = 0;               // |dW|/|W| of the block's parameters at this step
  double grad_rms = 0;                   // rms of the gradient the optimizer saw
};

struct CoordStep {
  int step = 0;
  double top_rms = 0;  // the last hidden state x_L, before any final norm
  std::vector<CoordBlock> blocks;
};

// [{"step", "top_rms", "blocks": [{"input_rms", "sublayer_out_rms", "update_ratio",
// "grad_rms"}]}]; non-finite numbers as null.
nlohmann::json coord_check_json(const std::vector<CoordStep>& steps);

}  // namespace normlab
