// One measurement of a decoder stack for the depth sanity check (docs/sanity-check.md):
//   forward  = rms(x_L) / rms(x_0)                (x_L before any final norm, x_0 the input of
//                                                   block 1)
//   backward = |dLoss/dx_0| / |dLoss/dx_{L-1}|    (bottom versus top block input, the B2T
//                                                   paper's per-layer gradient norm)
// as geometric means over measurement batches (and, at initialisation, over seeds). It reads the
// buffers a forward and backward leave behind and changes no parameter.
#pragma once
#include <cstdint>
#include <vector>

#include "model/decoder_lm.hpp"

namespace normlab {

struct StackMeasure {
  double forward = 0, backward = 0;
  double top_rms = 0, bottom_rms = 0, grad_bottom = 0, grad_top = 0, loss = 0;
};

// Fixed batches of B windows of T tokens (inputs and next-token targets) to measure on.
struct MeasureBatches {
  int B = 0, T = 0;
  std::vector<std::vector<int32_t>> inputs, targets;
};

// Geometric mean of the measurements added so far (the arithmetic mean for the loss).
class StackMeasureMean {
 public:
  // Forward and backward of every batch on `model` as it is: dropout off, gradients zeroed
  // before each batch, no update.
  void add(DecoderLM& model, const MeasureBatches& batches);
  StackMeasure mean() const;

 private:
  double log_forward_ = 0, log_backward_ = 0, log_top_ = 0, log_bottom_ = 0;
  double log_grad_bottom_ = 0, log_grad_top_ = 0, loss_ = 0;
  int n_ = 0;
};

}  // namespace normlab
