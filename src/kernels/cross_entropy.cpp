// Fused softmax + label-smoothed cross entropy, rows in parallel. With lse = log sum_j exp(z_j):
//   -log p_j = lse - z_j,  so  loss_i = (1 - eps)(lse - z_y) + eps (lse - mean_j z_j),
// which needs no log per vocabulary entry, and p_j = exp(z_j - lse) needs no division. Per-row
// losses are kept in double and summed in row order afterwards, so the mean does not depend on
// the thread count.
#include "kernels/cross_entropy.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/fast_exp.hpp"
#include "kernels/vec8.hpp"

namespace normlab {
namespace {

// Counts the rows with a target in [0, V); a target >= V is a caller bug (tokenizer/model vocab
// mismatch), reported before any parallel work starts.
int count_targets(const int32_t* targets, int N, int V) {
  int count = 0;
  for (int i = 0; i < N; ++i) {
    if (targets[i] >= V) {
      throw std::out_of_range("cross_entropy: target " + std::to_string(targets[i]) + " at row " +
                              std::to_string(i) + " is outside the vocabulary of " +
                              std::to_string(V));
    }
    if (targets[i] >= 0) ++count;
  }
  return count;
}

// Per row: loss_i (0 for ignored rows), the max m_i and log_sum_i = log sum_j exp(z_ij - m_i), so
// that p_ij = exp((z_ij - m_i) - log_sum_i) keeps full float precision even where the logits are
// large (a float lse near 1000 would carry an error of 3e-5). One pass for the max, one for sums.
// Kept in a per-thread scratch grown once and reused: no allocation in a steady-state step.
struct RowStatistics {
  std::vector<double> losses;
  std::vector<float> max, log_sum;
  int counted = 0;
  double mean_loss(int N) const {
    if (counted == 0) return 0.0;
    double total = 0.0;
    for (int i = 0; i < N; ++i) total += losses[i];
    return total / counted;
  }
};

const RowStatistics& row_statistics(const float* logits, const int32_t* targets, int N, int V,
                                    float eps, int* count) {
  thread_local RowStatistics st;
  st.counted = count_targets(targets, N, V);
  if (count) *count = st.counted;
  if (st.losses.size() < static_cast<size_t>(N))
    st.losses.resize(N), st.max.resize(N), st.log_sum.resize(N);
  double* losses = st.losses.data();
  float *max = st.max.data(), *log_sum = st.log_sum.data();
#pragma omp parallel for schedule(static)
  for (int i = 0; i < N; ++i) {
    const float* z = logits + static_cast<size_t>(i) * V;
    float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
    for (int j = 0; j < V; ++j) mx = std::max(mx, z[j]);
    double sum = 0.0, zsum = 0.0;
#pragma omp simd reduction(+ : sum, zsum)
    for (int j = 0; j < V; ++j) {
      sum += exp_nonpositive(z[j] - mx);
      zsum += z[j];
    }
    const double row_lse = mx + std::log(sum);
    max[i] = mx;
    log_sum[i] = static_cast<float>(std::log(sum));
    const int y = targets[i];
    losses[i] = y < 0 ? 0.0 : (1.0 - eps) * (row_lse - z[y]) + eps * (row_lse - zsum / V);
  }
  return st;
}

}  // namespace

double cross_entropy_forward(const float* logits, const int32_t* targets, int N, int V, float eps,
                             int* count) {
  return row_statistics(logits, targets, N, V, eps, count).mean_loss(N);
}

// d (w sum_i loss_i) / d z_ij = w (p_ij - (1 - eps) [j = y_i] - eps / V). Written by tiles of
// 8 rows x kCols vocabulary entries, computed row-wise and stored transposed by 8 x 8 register
// transposes (contiguous 8-float stores instead of scalar ones N floats apart).
double cross_entropy_forward_backward(float* dlogits_t, const float* logits, const int32_t* targets,
                                      int N, int V, float eps, float row_weight, int* count) {
  const RowStatistics& st = row_statistics(logits, targets, N, V, eps, count);
  const float *max = st.max.data(), *log_sum = st.log_sum.data();
  const float smooth = eps / static_cast<float>(V);
  constexpr int kCols = 64, kRows = 8;
  const int blocks = (V + kCols - 1) / kCols;
#pragma omp parallel for schedule(static)
  for (int blk = 0; blk < blocks; ++blk) {
    const int j0 = blk * kCols, width = std::min(kCols, V - j0);
    float* out = dlogits_t + static_cast<size_t>(j0) * N;
    for (int i0 = 0; i0 < N; i0 += kRows) {
      const int rows = std::min(kRows, N - i0);
      float dz[kRows][kCols];
      for (int r = 0; r < rows; ++r) {
        const int i = i0 + r, y = targets[i];
        if (y < 0) {
          std::fill(dz[r], dz[r] + width, 0.0f);
          continue;
        }
        const float* z = logits + static_cast<size_t>(i) * V + j0;
        const float m = max[i], ls = log_sum[i];
#pragma omp simd
        for (int j = 0; j < width; ++j)
          dz[r][j] = (exp_nonpositive((z[j] - m) - ls) - smooth) * row_weight;
        if (y >= j0 && y < j0 + width) dz[r][y - j0] -= (1.0f - eps) * row_weight;
      }
      vec8::transpose(out + i0, N, dz[0], kCols, rows, width, 1.0f);
    }
  }
  return st.mean_loss(N);
}

}  // namespace normlab
