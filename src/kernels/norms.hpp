// Normalization functions over the last dimension of N rows of width d (contiguous rows).
// Each forward saves what its backward needs. Backward: din = J^T dout is written (din may be
// dout: in place), parameter gradients accumulate (+=); the contract of every kernel is in
// kernels/README.md.
//
// LayerNorm (Ba et al. 2016):  y = g * (x - mean) * rstd + b,   rstd = 1/sqrt(var + eps)
//   Jacobian (g * rstd) (I - 11^T/d - xhat xhat^T/d): the gradient is divided by the input's
//   standard deviation; this is the mechanism behind Post-LN's vanishing gradient (Takase et al.).
// RMSNorm (Zhang & Sennrich 2019):  y = g * x * rstd,   rstd = 1/sqrt(mean(x^2) + eps)
// DyT (Zhu et al. 2025):  y = g * tanh(alpha * x) + b,  alpha a learnable scalar.
#pragma once

namespace normlab {

void layernorm_forward(float* out, float* mean, float* rstd, const float* in, const float* weight,
                       const float* bias, int N, int d, float eps);
void layernorm_backward(float* din, float* dweight, float* dbias, const float* dout,
                        const float* in, const float* weight, const float* mean, const float* rstd,
                        int N, int d);

void rmsnorm_forward(float* out, float* rstd, const float* in, const float* weight, int N, int d,
                     float eps);
void rmsnorm_backward(float* din, float* dweight, const float* dout, const float* in,
                      const float* weight, const float* rstd, int N, int d);

// `alpha` points at one scalar; `dalpha` receives its gradient.
void dyt_forward(float* out, const float* in, const float* alpha, const float* weight,
                 const float* bias, int N, int d);
void dyt_backward(float* din, float* dalpha, float* dweight, float* dbias, const float* dout,
                  const float* in, const float* alpha, const float* weight, int N, int d);

}  // namespace normlab
