// nGPT's hypersphere maths (Loshchilov et al. 2024, "nGPT: Normalized Transformer with
// Representation Learning on the Hypersphere", arXiv 2410.01131; NVIDIA/ngpt model.py):
//   Norm(x) = x / ||x||_2 over each row (justnorm in the official code: no epsilon), and the
//   normalised residual step of one sublayer,
//     h <- Norm(Norm(h) + a (Norm(y) - Norm(h))),  a = |theta c| per channel
//   (eq. 10-11: the eigen learning rate alpha_A or alpha_M, stored as theta = alpha_scale at init
//   and read as theta * alpha_init / alpha_scale; c = alpha_init / alpha_scale).
// Kernels follow kernels/README.md: parameter gradients accumulate, input gradients overwrite;
// reductions over rows run in a fixed order per column, whatever the thread count.
#pragma once
#include <cstddef>

namespace normlab {

// out = in / ||in|| per row of `width` (out may be in); rnorm[r] = 1 / ||in_r||.
void unit_rows_forward(float* out, float* rnorm, const float* in, size_t rows, int width);
// din = rnorm (dout - out <out, dout>) per row (din may be dout).
void unit_rows_backward(float* din, const float* dout, const float* out, const float* rnorm,
                        size_t rows, int width);

// Every row (rows) or every column (!rows) of a [r, c] matrix scaled to unit length: nGPT's
// projection of a weight matrix back onto the sphere after each optimizer step.
void unit_matrix(float* w, size_t r, size_t c, bool rows);

// The sphere step above on `rows` rows of d: x the stream, y the sublayer's output. Saves xn,
// yn and the three inverse norms (of x, y and the sum) for the backward.
void sphere_step_forward(float* out, float* xn, float* yn, float* rnorm_x, float* rnorm_y,
                         float* rnorm_sum, const float* x, const float* y, const float* theta,
                         float c, size_t rows, int d);
// dx, dy overwritten (dy is used as scratch first: it must not alias dout or dx); dtheta [d]
// accumulates.
void sphere_step_backward(float* dx, float* dy, float* dtheta, const float* dout, const float* out,
                          const float* xn, const float* yn, const float* rnorm_x,
                          const float* rnorm_y, const float* rnorm_sum, const float* theta, float c,
                          size_t rows, int d);

// acc[j] += scale * sum_r a[r * stride_a + j] * b[r * stride_b + j] for j < width: the gradient
// of a per-channel scale (nGPT's s_qk, s_v, s_z) from the rows it multiplied.
void accumulate_column_products(float* acc, const float* a, size_t stride_a, const float* b,
                                size_t stride_b, size_t rows, int width, float scale);

}  // namespace normlab
