// GELU, tanh approximation. With u = k (x + c x^3), k = sqrt(2/pi), c = 0.044715:
//   gelu(x)  = 0.5 x (1 + tanh u)
//   gelu'(x) = 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) k (1 + 3 c x^2)
// tanh is fast_tanh (kernels/fast_exp.hpp): libm's scalar tanh took a third of a training step.
#include "kernels/activation.hpp"

#include <cmath>

#include "kernels/fast_exp.hpp"

namespace normlab {
namespace {

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kCubic = 0.044715f;
// Below this many elements the OpenMP fork costs more than the loop.
constexpr size_t kParallelMin = 1 << 15;

inline float gelu_at(float x) {
  const float u = kSqrt2OverPi * (x + kCubic * x * x * x);
  return 0.5f * x * (1.0f + fast_tanh(u));
}

inline float gelu_grad_at(float x) {
  const float u = kSqrt2OverPi * (x + kCubic * x * x * x);
  const float th = fast_tanh(u);
  const float du = kSqrt2OverPi * (1.0f + 3.0f * kCubic * x * x);
  return 0.5f * (1.0f + th) + 0.5f * x * (1.0f - th * th) * du;
}

}  // namespace

// Below kParallelMin the loops run without the parallel region: GCC 12 compiles the region's
// `if` fallback of `parallel for simd` without the simd (scalar divisions), which made GELU 40% of
// a step at 4 x 32 tokens (d_ff 128). The serial loop keeps its own `omp simd`.
void gelu_forward(float* out, const float* in, size_t n) {
  if (n >= kParallelMin) {
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; ++i) out[i] = gelu_at(in[i]);
  } else {
#pragma omp simd
    for (size_t i = 0; i < n; ++i) out[i] = gelu_at(in[i]);
  }
}

void gelu_backward(float* din, const float* dout, const float* in, size_t n) {
  if (n >= kParallelMin) {
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; ++i) din[i] = dout[i] * gelu_grad_at(in[i]);
  } else {
#pragma omp simd
    for (size_t i = 0; i < n; ++i) din[i] = dout[i] * gelu_grad_at(in[i]);
  }
}

}  // namespace normlab
