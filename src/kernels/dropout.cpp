// Inverted dropout with a counter-based mask: element i is kept iff uniform01(seed, stream, i)
// >= p, so forward and backward recompute the same mask without storing it, independently of
// the thread count.
#include "kernels/dropout.hpp"

#include "core/rng.hpp"

namespace normlab {
namespace {

// Below this many elements the OpenMP fork costs more than the loop.
constexpr size_t kParallelMin = 1 << 14;

// 1/(1-p) for a kept element; p >= 1 drops everything (and avoids the 0 * inf = NaN).
float keep_scale(float p) {
  return p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
}

}  // namespace

void dropout_forward(float* out, const float* in, float p, uint64_t seed, uint64_t stream,
                     size_t n) {
  if (p <= 0.0f) {
    if (out != in) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
      for (size_t i = 0; i < n; ++i) out[i] = in[i];
    }
    return;
  }
  const float s = keep_scale(p);
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (size_t i = 0; i < n; ++i) {
    out[i] = uniform01(seed, stream, i) >= p ? in[i] * s : 0.0f;
  }
}

void dropout_backward(float* din, const float* dout, float p, uint64_t seed, uint64_t stream,
                      size_t n) {
  // dropout_forward with the gradient as input: the same mask, the same scale.
  dropout_forward(din, dout, p, seed, stream, n);
}

}  // namespace normlab
