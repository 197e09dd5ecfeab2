#include "kernels/vector_ops.hpp"

#include <vector>

namespace normlab {
namespace {

// Below this many elements the OpenMP fork costs more than the loop.
constexpr size_t kParallelMin = 1 << 15;
// sum_squares: elements per chunk (each summed in double by one thread), and the size from which
// the chunks run in parallel.
constexpr size_t kChunk = 1 << 14;

}  // namespace

void add_inplace(float* y, const float* x, size_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (size_t i = 0; i < n; ++i) y[i] += x[i];
}

void zero(float* y, size_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (size_t i = 0; i < n; ++i) y[i] = 0.0f;
}

void scale_inplace(float* y, float s, size_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (size_t i = 0; i < n; ++i) y[i] *= s;
}

double sum_squares(const float* x, size_t n) {
  const size_t chunks = (n + kChunk - 1) / kChunk;
  thread_local std::vector<double> partial;  // grown once, reused across calls
  if (partial.size() < chunks) partial.resize(chunks);
  double* part = partial.data();
#pragma omp parallel for schedule(static) if (n >= 2 * kChunk)
  for (size_t c = 0; c < chunks; ++c) {
    const size_t end = c * kChunk + kChunk < n ? c * kChunk + kChunk : n;
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (size_t i = c * kChunk; i < end; ++i) s += static_cast<double>(x[i]) * x[i];
    part[c] = s;
  }
  double total = 0.0;
  for (size_t c = 0; c < chunks; ++c) total += part[c];
  return total;
}

double population_variance(const float* x, size_t n) {
  double mean = 0.0;
  for (size_t i = 0; i < n; ++i) mean += x[i];
  mean /= static_cast<double>(n);
  double s = 0.0;
  for (size_t i = 0; i < n; ++i) s += (x[i] - mean) * (x[i] - mean);
  return s / static_cast<double>(n);
}

}  // namespace normlab
