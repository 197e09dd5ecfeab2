// AdamW with decoupled weight decay and bias correction, elementwise in parallel; and a sum of
// squares whose reduction order is fixed by n alone (chunks of kChunk elements, each summed in
// double, then added in chunk order), so the gradient norm does not depend on the thread count.
#include "kernels/adamw.hpp"

#include <cmath>
#include <vector>

namespace normlab {
namespace {

constexpr size_t kParallelMin = 1 << 14;
constexpr size_t kChunk = 1 << 14;

}  // namespace

void adamw_update(float* param, const float* grad, float* m, float* v, size_t n, float lr,
                  float beta1, float beta2, float eps, float weight_decay, long step) {
  // Bias corrections 1 - b^t in double: for b2 = 0.999 and small t, float pow loses digits.
  const float c1 = static_cast<float>(1.0 / (1.0 - std::pow(static_cast<double>(beta1), step)));
  const float c2 = static_cast<float>(1.0 / (1.0 - std::pow(static_cast<double>(beta2), step)));
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (size_t i = 0; i < n; ++i) {
    const float g = grad[i];
    const float mi = beta1 * m[i] + (1.0f - beta1) * g;
    const float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] -= lr * ((mi * c1) / (std::sqrt(vi * c2) + eps) + weight_decay * param[i]);
  }
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

}  // namespace normlab
