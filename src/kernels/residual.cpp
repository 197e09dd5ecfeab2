// Scaled residual sum out = alpha x + dt branch: elementwise, so outputs may alias inputs. Admin's
// weighted form broadcasts omega over the rows.
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

void weighted_residual_forward(float* out, const float* x, const float* omega, float alpha,
                               const float* branch, float dt, size_t rows, int d) {
#pragma omp parallel for schedule(static) if (rows * d >= kParallelMin)
  for (size_t r = 0; r < rows; ++r)
    for (int j = 0; j < d; ++j) {
      const size_t i = r * d + j;
      out[i] = alpha * omega[j] * x[i] + dt * branch[i];
    }
}

void weighted_residual_backward(float* dx, float* dbranch, float* domega, const float* dout,
                                const float* x, const float* omega, float alpha, float dt,
                                size_t rows, int d) {
  // domega first: dx or dbranch may overwrite dout. Each column is summed over the rows in order
  // by one thread, so the result does not depend on the thread count.
#pragma omp parallel for schedule(static) if (rows * d >= kParallelMin)
  for (int j = 0; j < d; ++j) {
    double s = 0.0;
    for (size_t r = 0; r < rows; ++r) s += static_cast<double>(x[r * d + j]) * dout[r * d + j];
    domega[j] += static_cast<float>(alpha * s);
  }
#pragma omp parallel for schedule(static) if (rows * d >= kParallelMin)
  for (size_t r = 0; r < rows; ++r)
    for (int j = 0; j < d; ++j) {
      const size_t i = r * d + j;
      const float g = dout[i];
      dx[i] = alpha * omega[j] * g;
      dbranch[i] = dt * g;
    }
}

}  // namespace normlab
