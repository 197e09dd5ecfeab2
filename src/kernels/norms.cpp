// LayerNorm, RMSNorm and DyT over rows of width d; rows run in parallel.
//
// Backward through y = g * xhat + b with xhat = (x - mean) * rstd (LayerNorm):
//   dxhat = g * dy,   dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
// The two means are the rows of the Jacobian (I - 11^T/d - xhat xhat^T/d); RMSNorm has no mean
// subtraction and so only the xhat term. DyT is elementwise: d tanh(a x)/dx = a (1 - tanh^2).
//
// dx is written row by row after the row's sums are complete, reading dy[j] before writing dx[j],
// so dx may be dy (in place). Parameter gradients are sums over rows. To make them independent of
// the thread count, rows are split into a chunk count that depends only on N; each chunk sums into
// its own slice of scratch, and the slices are added in chunk order afterwards.
#include "kernels/norms.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace normlab {
namespace {

// At least kRowsPerChunk rows per chunk (so the final reduction stays small next to the row
// work), at most kMaxChunks chunks (enough parallel slack for any realistic core count).
constexpr int kRowsPerChunk = 16;
constexpr int kMaxChunks = 64;

int chunk_count(int N) {
  return std::clamp((N + kRowsPerChunk - 1) / kRowsPerChunk, 1, kMaxChunks);
}
int chunk_begin(int c, int N, int chunks) {
  return static_cast<int>(static_cast<long>(c) * N / chunks);
}

// Per-call scratch, grown once per calling thread and then reused.
float* scratch(size_t n) {
  thread_local std::vector<float> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

// acc[j] += sum over chunks c (in order) of part[c * stride + j], for j < d.
void reduce_chunks(float* acc, const float* part, int chunks, int d, size_t stride) {
#pragma omp parallel for schedule(static) if (static_cast <long>(chunks) * d > 32768)
  for (int j = 0; j < d; ++j) {
    float s = 0.0f;
    for (int c = 0; c < chunks; ++c) s += part[c * stride + j];
    acc[j] += s;
  }
}

float row_mean(const float* x, int d) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int j = 0; j < d; ++j) s += x[j];
  return s / static_cast<float>(d);
}

}  // namespace

void layernorm_forward(float* out, float* mean, float* rstd, const float* in, const float* weight,
                       const float* bias, int N, int d, float eps) {
#pragma omp parallel for schedule(static)
  for (int i = 0; i < N; ++i) {
    const float* x = in + static_cast<size_t>(i) * d;
    float* y = out + static_cast<size_t>(i) * d;
    // Two-pass variance: sum (x - mean)^2 avoids the cancellation of E[x^2] - mean^2.
    const float m = row_mean(x, d);
    float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
    for (int j = 0; j < d; ++j) ss += (x[j] - m) * (x[j] - m);
    const float r = 1.0f / std::sqrt(ss / static_cast<float>(d) + eps);
#pragma omp simd
    for (int j = 0; j < d; ++j) y[j] = weight[j] * ((x[j] - m) * r) + bias[j];
    mean[i] = m;
    rstd[i] = r;
  }
}

void layernorm_backward(float* din, float* dweight, float* dbias, const float* dout,
                        const float* in, const float* weight, const float* mean, const float* rstd,
                        int N, int d) {
  if (N <= 0) return;
  const int chunks = chunk_count(N);
  const size_t stride = 2 * static_cast<size_t>(d);  // [dweight | dbias] per chunk
  float* part = scratch(chunks * stride);
#pragma omp parallel for schedule(static)
  for (int c = 0; c < chunks; ++c) {
    float* dw = part + c * stride;
    float* db = dw + d;
    std::fill(dw, dw + stride, 0.0f);
    for (int i = chunk_begin(c, N, chunks); i < chunk_begin(c + 1, N, chunks); ++i) {
      const float* x = in + static_cast<size_t>(i) * d;
      const float* dy = dout + static_cast<size_t>(i) * d;
      float* dx = din + static_cast<size_t>(i) * d;
      const float m = mean[i], r = rstd[i];
      float sum_dxhat = 0.0f, sum_dxhat_xhat = 0.0f;
#pragma omp simd reduction(+ : sum_dxhat, sum_dxhat_xhat)
      for (int j = 0; j < d; ++j) {
        const float xhat = (x[j] - m) * r;
        const float dxhat = weight[j] * dy[j];
        sum_dxhat += dxhat;
        sum_dxhat_xhat += dxhat * xhat;
        dw[j] += dy[j] * xhat;
        db[j] += dy[j];
      }
      const float mean_dxhat = sum_dxhat / static_cast<float>(d);
      const float mean_dxhat_xhat = sum_dxhat_xhat / static_cast<float>(d);
#pragma omp simd
      for (int j = 0; j < d; ++j) {
        const float xhat = (x[j] - m) * r;
        dx[j] = r * (weight[j] * dy[j] - mean_dxhat - xhat * mean_dxhat_xhat);
      }
    }
  }
  reduce_chunks(dweight, part, chunks, d, stride);
  reduce_chunks(dbias, part + d, chunks, d, stride);
}

void rmsnorm_forward(float* out, float* rstd, const float* in, const float* weight, int N, int d,
                     float eps) {
#pragma omp parallel for schedule(static)
  for (int i = 0; i < N; ++i) {
    const float* x = in + static_cast<size_t>(i) * d;
    float* y = out + static_cast<size_t>(i) * d;
    float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
    for (int j = 0; j < d; ++j) ss += x[j] * x[j];
    const float r = 1.0f / std::sqrt(ss / static_cast<float>(d) + eps);
#pragma omp simd
    for (int j = 0; j < d; ++j) y[j] = weight[j] * (x[j] * r);
    rstd[i] = r;
  }
}

void rmsnorm_backward(float* din, float* dweight, const float* dout, const float* in,
                      const float* weight, const float* rstd, int N, int d) {
  if (N <= 0) return;
  const int chunks = chunk_count(N);
  const size_t stride = static_cast<size_t>(d);
  float* part = scratch(chunks * stride);
#pragma omp parallel for schedule(static)
  for (int c = 0; c < chunks; ++c) {
    float* dw = part + c * stride;
    std::fill(dw, dw + stride, 0.0f);
    for (int i = chunk_begin(c, N, chunks); i < chunk_begin(c + 1, N, chunks); ++i) {
      const float* x = in + static_cast<size_t>(i) * d;
      const float* dy = dout + static_cast<size_t>(i) * d;
      float* dx = din + static_cast<size_t>(i) * d;
      const float r = rstd[i];
      float sum_dxhat_xhat = 0.0f;
#pragma omp simd reduction(+ : sum_dxhat_xhat)
      for (int j = 0; j < d; ++j) {
        const float xhat = x[j] * r;
        sum_dxhat_xhat += weight[j] * dy[j] * xhat;
        dw[j] += dy[j] * xhat;
      }
      const float mean_dxhat_xhat = sum_dxhat_xhat / static_cast<float>(d);
#pragma omp simd
      for (int j = 0; j < d; ++j) {
        dx[j] = r * (weight[j] * dy[j] - x[j] * r * mean_dxhat_xhat);
      }
    }
  }
  reduce_chunks(dweight, part, chunks, d, stride);
}

void dyt_forward(float* out, const float* in, const float* alpha, const float* weight,
                 const float* bias, int N, int d) {
  const float a = *alpha;
#pragma omp parallel for schedule(static)
  for (int i = 0; i < N; ++i) {
    const float* x = in + static_cast<size_t>(i) * d;
    float* y = out + static_cast<size_t>(i) * d;
    for (int j = 0; j < d; ++j) y[j] = weight[j] * std::tanh(a * x[j]) + bias[j];
  }
}

void dyt_backward(float* din, float* dalpha, float* dweight, float* dbias, const float* dout,
                  const float* in, const float* alpha, const float* weight, int N, int d) {
  if (N <= 0) return;
  const float a = *alpha;
  const int chunks = chunk_count(N);
  // [dweight | dbias] per chunk in float; dalpha sums all N*d terms, so its per-chunk partials
  // are kept in double.
  const size_t stride = 2 * static_cast<size_t>(d);
  float* part = scratch(chunks * stride);
  thread_local std::vector<double> alpha_part;
  if (alpha_part.size() < static_cast<size_t>(chunks)) alpha_part.resize(chunks);
  double* da_part = alpha_part.data();
#pragma omp parallel for schedule(static)
  for (int c = 0; c < chunks; ++c) {
    float* dw = part + c * stride;
    float* db = dw + d;
    std::fill(dw, dw + stride, 0.0f);
    double da = 0.0;
    for (int i = chunk_begin(c, N, chunks); i < chunk_begin(c + 1, N, chunks); ++i) {
      const float* x = in + static_cast<size_t>(i) * d;
      const float* dy = dout + static_cast<size_t>(i) * d;
      float* dx = din + static_cast<size_t>(i) * d;
      float da_row = 0.0f;
      for (int j = 0; j < d; ++j) {
        const float t = std::tanh(a * x[j]), g = dy[j];     // g read before dx[j] is written
        const float dpre = weight[j] * g * (1.0f - t * t);  // dL/d(alpha x)
        da_row += x[j] * dpre;
        dw[j] += g * t;
        db[j] += g;
        dx[j] = a * dpre;
      }
      da += da_row;
    }
    da_part[c] = da;
  }
  reduce_chunks(dweight, part, chunks, d, stride);
  reduce_chunks(dbias, part + d, chunks, d, stride);
  double da = 0.0;
  for (int c = 0; c < chunks; ++c) da += da_part[c];
  *dalpha += static_cast<float>(da);
}

}  // namespace normlab
