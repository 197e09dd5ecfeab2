// Causal scaled dot-product attention, one (batch, head) pair per OpenMP task. Each pair's
// q/k/v (and dout) columns are gathered into contiguous per-thread [T, hd] buffers so the
// products run on oneDNN matmul (single-threaded inside the parallel region); the softmax and its
// Jacobian are plain row loops. Pairs write disjoint head columns and att slices, so they never
// race and the result does not depend on the thread count.
#include "kernels/attention.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "kernels/linear.hpp"

namespace normlab {
namespace {

// [T, hd] head slice at row stride `stride` <-> contiguous [T, hd].
void gather_head(float* dst, const float* src, int T, int hd, int stride) {
  for (int t = 0; t < T; ++t) {
    const float* row = src + static_cast<size_t>(t) * stride;
    std::copy(row, row + hd, dst + static_cast<size_t>(t) * hd);
  }
}

void scatter_head(float* dst, const float* src, int T, int hd, int stride) {
  for (int t = 0; t < T; ++t) {
    const float* row = src + static_cast<size_t>(t) * hd;
    std::copy(row, row + hd, dst + static_cast<size_t>(t) * stride);
  }
}

void scatter_add_head(float* dst, const float* src, int T, int hd, int stride) {
  for (int t = 0; t < T; ++t) {
    const float* row = src + static_cast<size_t>(t) * hd;
    float* out = dst + static_cast<size_t>(t) * stride;
    for (int c = 0; c < hd; ++c) out[c] += row[c];
  }
}

// Per-thread scratch, grown once and reused across calls (no allocation in steady state).
float* thread_scratch(size_t n) {
  thread_local std::vector<float> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

}  // namespace

// Per head, with s = 1/sqrt(hd):
//   S = s Q K^T,  P_i = softmax(S_i[0..i]) (max-subtracted), P_ij = 0 for j > i,  O = P V.
void attention_forward(float* out, float* att, const float* q, const float* k, const float* v,
                       int stride, int B, int T, int d, int H) {
  const int hd = d / H;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const size_t th = static_cast<size_t>(T) * hd;
#pragma omp parallel
  {
    float* Q = thread_scratch(4 * th);
    float *K = Q + th, *V = K + th, *O = V + th;
#pragma omp for schedule(static)
    for (int bh = 0; bh < B * H; ++bh) {
      const int b = bh / H, h = bh % H;
      const size_t base = static_cast<size_t>(b) * T * stride + static_cast<size_t>(h) * hd;
      float* P = att + static_cast<size_t>(bh) * T * T;
      gather_head(Q, q + base, T, hd, stride);
      gather_head(K, k + base, T, hd, stride);
      gather_head(V, v + base, T, hd, stride);

      matmul(P, Q, K, T, T, hd, false, true, scale, 0.0f);
      for (int i = 0; i < T; ++i) {
        float* Pi = P + static_cast<size_t>(i) * T;
        float mx = -INFINITY;
        for (int j = 0; j <= i; ++j) mx = std::max(mx, Pi[j]);
        float sum = 0.0f;
        for (int j = 0; j <= i; ++j) {
          Pi[j] = std::exp(Pi[j] - mx);
          sum += Pi[j];
        }
        const float inv = 1.0f / sum;
        for (int j = 0; j <= i; ++j) Pi[j] *= inv;
        std::fill(Pi + i + 1, Pi + T, 0.0f);  // causal mask
      }
      matmul(O, P, V, T, hd, T, false, false, 1.0f, 0.0f);
      scatter_head(out + static_cast<size_t>(b) * T * d + static_cast<size_t>(h) * hd, O, T, hd, d);
    }
  }
}

// Per head, from O = P V, P_i = softmax(S_i), S = s Q K^T:
//   dV += P^T dO,   dP = dO V^T,   dS_ij = P_ij (dP_ij - sum_l P_il dP_il)  (softmax Jacobian),
//   dQ += s dS K,   dK += s dS^T Q.
// The masked entries have P_ij = 0, hence dS_ij = 0, so full T x T products stay causal.
void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q,
                        const float* k, const float* v, const float* att, int stride, int B, int T,
                        int d, int H) {
  const int hd = d / H;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const size_t th = static_cast<size_t>(T) * hd;
#pragma omp parallel
  {
    float* Q = thread_scratch(7 * th + static_cast<size_t>(T) * T);
    float *K = Q + th, *V = K + th, *dO = V + th, *dQ = dO + th, *dK = dQ + th, *dV = dK + th;
    float* dS = dV + th;  // holds dP, then dS in place
#pragma omp for schedule(static)
    for (int bh = 0; bh < B * H; ++bh) {
      const int b = bh / H, h = bh % H;
      const size_t base = static_cast<size_t>(b) * T * stride + static_cast<size_t>(h) * hd;
      const float* P = att + static_cast<size_t>(bh) * T * T;
      gather_head(Q, q + base, T, hd, stride);
      gather_head(K, k + base, T, hd, stride);
      gather_head(V, v + base, T, hd, stride);
      gather_head(dO, dout + static_cast<size_t>(b) * T * d + static_cast<size_t>(h) * hd, T, hd,
                  d);

      matmul(dV, P, dO, T, hd, T, true, false, 1.0f, 0.0f);
      matmul(dS, dO, V, T, T, hd, false, true, 1.0f, 0.0f);
      for (int i = 0; i < T; ++i) {
        const float* Pi = P + static_cast<size_t>(i) * T;
        float* dSi = dS + static_cast<size_t>(i) * T;
        float rowdot = 0.0f;
        for (int j = 0; j <= i; ++j) rowdot += Pi[j] * dSi[j];
        for (int j = 0; j <= i; ++j) dSi[j] = Pi[j] * (dSi[j] - rowdot);
        std::fill(dSi + i + 1, dSi + T, 0.0f);
      }
      matmul(dQ, dS, K, T, hd, T, false, false, scale, 0.0f);
      matmul(dK, dS, Q, T, hd, T, true, false, scale, 0.0f);

      scatter_add_head(dq + base, dQ, T, hd, stride);
      scatter_add_head(dk + base, dK, T, hd, stride);
      scatter_add_head(dv + base, dV, T, hd, stride);
    }
  }
}

}  // namespace normlab
