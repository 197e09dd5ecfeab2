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

}  // namespace

void gelu_forward(float* out, const float* in, size_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (size_t i = 0; i < n; ++i) {
    const float x = in[i];
    const float u = kSqrt2OverPi * (x + kCubic * x * x * x);
    out[i] = 0.5f * x * (1.0f + fast_tanh(u));
  }
}

void gelu_backward(float* din, const float* dout, const float* in, size_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (size_t i = 0; i < n; ++i) {
    const float x = in[i];
    const float u = kSqrt2OverPi * (x + kCubic * x * x * x);
    const float th = fast_tanh(u);
    const float du = kSqrt2OverPi * (1.0f + 3.0f * kCubic * x * x);
    din[i] = dout[i] * (0.5f * (1.0f + th) + 0.5f * x * (1.0f - th * th) * du);
  }
}

}  // namespace normlab
