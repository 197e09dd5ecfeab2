// Scaled residual sum, the one place where placements meet dt and DeepNorm's alpha:
//   out = alpha * x + dt * branch
// (Kan et al. 2025 read a block as x + dt f(x); Wang et al. 2022 up-weight the shortcut by alpha.)
#pragma once
#include <cstddef>

namespace normlab {

void residual_forward(float* out, const float* x, float alpha, const float* branch, float dt,
                      size_t n);
// dx = alpha * dout,  dbranch = dt * dout   (either may be nullptr, either may be dout)
void residual_backward(float* dx, float* dbranch, const float* dout, float alpha, float dt,
                       size_t n);

}  // namespace normlab
