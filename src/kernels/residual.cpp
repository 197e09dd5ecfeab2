// Scaled residual sum out = alpha x + dt branch: elementwise, so outputs may alias inputs.
#include "kernels/residual.hpp"

namespace normlab {
namespace {

// Below this many elements the OpenMP fork costs more than the loop.
constexpr size_t kParallelMin = 1 << 15;

}  // namespace

void residual_forward(float* out, const float* x, float alpha, const float* branch, float dt,
                      size_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (size_t i = 0; i < n; ++i) out[i] = alpha * x[i] + dt * branch[i];
}

void residual_backward(float* dx, float* dbranch, const float* dout, float alpha, float dt,
                       size_t n) {
  if (dx && dbranch) {  // one pass, each dout[i] read before either output is written
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
    for (size_t i = 0; i < n; ++i) {
      const float g = dout[i];
      dx[i] = alpha * g;
      dbranch[i] = dt * g;
    }
  } else if (dx) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
    for (size_t i = 0; i < n; ++i) dx[i] = alpha * dout[i];
  } else if (dbranch) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
    for (size_t i = 0; i < n; ++i) dbranch[i] = dt * dout[i];
  }
}

}  // namespace normlab
