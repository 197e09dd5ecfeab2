#include "diag/stack_measure.hpp"

#include <cmath>

#include "kernels/hidden_stats.hpp"

namespace normlab {

namespace {

// log v, with log 0 = -inf and NaN for a negative or NaN v (which then shows in the mean).
double log_or_nan(double v) {
  return v > 0 ? std::log(v) : (v == 0 ? -INFINITY : NAN);
}

}  // namespace

void StackMeasureMean::add(DecoderLM& model, const MeasureBatches& batches) {
  const int d = model.shape().d, L = model.shape().layers, B = batches.B, T = batches.T;
  model.training = false;
  model.record_grad_norms = true;
  for (size_t i = 0; i < batches.inputs.size(); ++i) {
    model.params().zero_grads();
    const double loss = model.forward(batches.inputs[i].data(), batches.targets[i].data(), B, T);
    model.backward();
    const double top = hidden_stats(model.stack_output(), B, T, d).rms;
    const double bottom = hidden_stats(model.sublayers()[0].x_in, B, T, d).rms;
    const double gb = model.grad_block_input()[0], gt = model.grad_block_input()[L - 1];
    log_forward_ += log_or_nan(top / bottom), log_backward_ += log_or_nan(gb / gt);
    log_top_ += log_or_nan(top), log_bottom_ += log_or_nan(bottom);
    log_grad_bottom_ += log_or_nan(gb), log_grad_top_ += log_or_nan(gt);
    loss_ += loss;
    ++n_;
  }
  model.record_grad_norms = false;
}

StackMeasure StackMeasureMean::mean() const {
  StackMeasure m;
  m.forward = std::exp(log_forward_ / n_), m.backward = std::exp(log_backward_ / n_);
  m.top_rms = std::exp(log_top_ / n_), m.bottom_rms = std::exp(log_bottom_ / n_);
  m.grad_bottom = std::exp(log_grad_bottom_ / n_), m.grad_top = std::exp(log_grad_top_ / n_);
  m.loss = loss_ / n_;
  return m;
}

}  // namespace normlab
