// Token + position embedding and the fixed sinusoidal table.
//
// The token-embedding gradient is a scatter-add (several positions may share a token). It is
// made deterministic without atomics by giving each thread a fixed slice of the d columns: every
// element dtok_emb[v, j] is then written by one thread only, summing positions in (b, t) order,
// so the result does not depend on the thread count.
#include "kernels/embedding.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace normlab {
namespace {

// Column slices of one cache line so that threads do not share lines of dtok_emb.
constexpr int kColBlock = 16;

}  // namespace

void embedding_forward(float* out, const int32_t* tokens, const float* tok_emb, const float* pos,
                       int B, int T, int d, float scale) {
#pragma omp parallel for schedule(static)
  for (int bt = 0; bt < B * T; ++bt) {
    const int t = bt % T;
    const float* e = tok_emb + static_cast<size_t>(tokens[bt]) * d;
    const float* p = pos + static_cast<size_t>(t) * d;
    float* y = out + static_cast<size_t>(bt) * d;
#pragma omp simd
    for (int j = 0; j < d; ++j) y[j] = scale * e[j] + p[j];
  }
}

void embedding_backward(float* dtok_emb, float* dpos, const float* dout, const int32_t* tokens,
                        int B, int T, int d, float scale) {
  const int blocks = (d + kColBlock - 1) / kColBlock;
#pragma omp parallel for schedule(static)
  for (int blk = 0; blk < blocks; ++blk) {
    const int j0 = blk * kColBlock, j1 = std::min(d, j0 + kColBlock);
    for (int bt = 0; bt < B * T; ++bt) {
      const float* dy = dout + static_cast<size_t>(bt) * d;
      float* de = dtok_emb + static_cast<size_t>(tokens[bt]) * d;
      for (int j = j0; j < j1; ++j) de[j] += scale * dy[j];
    }
  }
  if (dpos == nullptr) return;
    // dpos[t] = sum_b dout[b, t]: each t is owned by one thread, batches summed in order.
#pragma omp parallel for schedule(static)
  for (int t = 0; t < T; ++t) {
    float* dp = dpos + static_cast<size_t>(t) * d;
    for (int b = 0; b < B; ++b) {
      const float* dy = dout + (static_cast<size_t>(b) * T + t) * d;
#pragma omp simd
      for (int j = 0; j < d; ++j) dp[j] += dy[j];
    }
  }
}

void sinusoidal_positions(float* table, int T, int d) {
  const int half = d / 2;
  // fairseq's frequency step is log(10000) / (half - 1); with half == 1 the only frequency is
  // w_0 = 10000^0 = 1. For odd d fairseq zero-pads the last column; we do the same.
  const double step = half > 1 ? std::log(10000.0) / (half - 1) : 0.0;
#pragma omp parallel for schedule(static)
  for (int t = 0; t < T; ++t) {
    float* row = table + static_cast<size_t>(t) * d;
    for (int i = 0; i < half; ++i) {
      const double angle = t * std::exp(-step * i);
      row[i] = static_cast<float>(std::sin(angle));
      row[half + i] = static_cast<float>(std::cos(angle));
    }
    if (d % 2 == 1) row[d - 1] = 0.0f;
  }
}

}  // namespace normlab
