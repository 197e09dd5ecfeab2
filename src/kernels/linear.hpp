// Linear layer on oneDNN matmul, weights in PyTorch nn.Linear layout W[out, in]:
//   y = x W^T + b            (x: [N, in], y: [N, out], b may be nullptr)
// Backward:  dx = dy W (written, as every activation gradient: kernels/README.md),  dW += dy^T x,
//            db += sum_rows dy (parameter gradients accumulate over blocks and micro-batches).
// Primitives are created once per shape and cached; no allocation on the hot path.
#pragma once

namespace normlab {

void linear_forward(float* out, const float* in, const float* weight, const float* bias, int N,
                    int in_dim, int out_dim);
void linear_backward(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                     const float* weight, int N, int in_dim, int out_dim);

// General row-major product C = alpha * op(A) op(B) + beta * C on oneDNN (op = optional transpose).
// A is [M,K] (or [K,M] if trans_a), B is [K,N] (or [N,K] if trans_b), C is [M,N].
void matmul(float* C, const float* A, const float* B, int M, int N, int K, bool trans_a,
            bool trans_b, float alpha, float beta);

}  // namespace normlab
