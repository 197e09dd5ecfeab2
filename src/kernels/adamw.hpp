// AdamW (Loshchilov & Hutter 2019) in one pass over a parameter range, with bias correction:
//   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
//   p -= lr * ( (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps) + wd * p )
// `step` is 1-based. Called once per parameter tensor so that weight decay can differ.
#pragma once
#include <cstddef>

namespace normlab {

void adamw_update(float* param, const float* grad, float* m, float* v, size_t n, float lr,
                  float beta1, float beta2, float eps, float weight_decay, long step);

}  // namespace normlab
