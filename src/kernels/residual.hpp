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

// Admin's weighted shortcut (Liu et al. 2020, "Understanding the Difficulty of Training
// Transformers", eq. 6), over `rows` rows of width d with omega [d] a learned vector:
//   out = alpha omega ⊙ x + dt * branch
void weighted_residual_forward(float* out, const float* x, const float* omega, float alpha,
                               const float* branch, float dt, size_t rows, int d);
// dx = alpha omega ⊙ dout, dbranch = dt * dout (either may be dout), and
// domega += alpha sum over rows of x ⊙ dout (accumulated in double, in row order).
void weighted_residual_backward(float* dx, float* dbranch, float* domega, const float* dout,
                                const float* x, const float* omega, float alpha, float dt,
                                size_t rows, int d);

}  // namespace normlab
