// AdamW with decoupled weight decay and bias correction, elementwise in parallel.
#include "kernels/adamw.hpp"

#include <cmath>

namespace normlab {
namespace {

constexpr size_t kParallelMin = 1 << 14;

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

}  // namespace normlab
