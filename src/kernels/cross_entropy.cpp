// Fused softmax + label-smoothed cross entropy, rows in parallel. With lse = log sum_j exp(z_j):
//   -log p_j = lse - z_j,  so  loss_i = (1 - eps)(lse - z_y) + eps (lse - mean_j z_j),
// which needs no log per vocabulary entry. Per-row losses are kept in double and summed in row
// order afterwards, so the mean does not depend on the thread count.
#include "kernels/cross_entropy.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/fast_exp.hpp"

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

}  // namespace

double cross_entropy_forward(float* probs, const float* logits, const int32_t* targets, int N,
                             int V, float eps, int* count) {
  const int counted = count_targets(targets, N, V);
  if (count) *count = counted;
  thread_local std::vector<double> row_loss;  // grown once, reused across calls
  if (row_loss.size() < static_cast<size_t>(N)) row_loss.resize(N);
  double* losses = row_loss.data();

#pragma omp parallel for schedule(static)
  for (int i = 0; i < N; ++i) {
    const float* z = logits + static_cast<size_t>(i) * V;
    float* p = probs + static_cast<size_t>(i) * V;
    float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
    for (int j = 0; j < V; ++j) mx = std::max(mx, z[j]);
    for (int j = 0; j < V; ++j) p[j] = exp_nonpositive(z[j] - mx);
    double sum = 0.0, zsum = 0.0;
#pragma omp simd reduction(+ : sum, zsum)
    for (int j = 0; j < V; ++j) {
      sum += p[j];
      zsum += z[j];
    }
    const float inv = static_cast<float>(1.0 / sum);
    for (int j = 0; j < V; ++j) p[j] *= inv;
    const int y = targets[i];
    if (y < 0) {
      losses[i] = 0.0;
      continue;
    }
    const double lse = mx + std::log(sum);
    losses[i] = (1.0 - eps) * (lse - z[y]) + eps * (lse - zsum / V);
  }

  if (counted == 0) return 0.0;
  double total = 0.0;
  for (int i = 0; i < N; ++i) total += losses[i];
  return total / counted;
}

// d loss / d z_j = (p_j - (1 - eps) [j = y] - eps / V) * dloss / count, zero for ignored rows.
void cross_entropy_backward(float* dlogits, const float* probs, const int32_t* targets, int N,
                            int V, float eps, float dloss) {
  const int counted = count_targets(targets, N, V);
  const float g = counted > 0 ? dloss / static_cast<float>(counted) : 0.0f;
  const float smooth = eps / static_cast<float>(V);
#pragma omp parallel for schedule(static)
  for (int i = 0; i < N; ++i) {
    const float* p = probs + static_cast<size_t>(i) * V;
    float* dz = dlogits + static_cast<size_t>(i) * V;
    const int y = targets[i];
    if (y < 0) {
      std::fill(dz, dz + V, 0.0f);
      continue;
    }
    for (int j = 0; j < V; ++j) dz[j] = (p[j] - smooth) * g;
    dz[y] -= (1.0f - eps) * g;
  }
}

}  // namespace normlab
