// Fused softmax + cross entropy against direct double-precision formulas, ignored rows, label
// smoothing, numerical stability, finite differences and thread-count independence.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/rng.hpp"
#include "finite_difference.hpp"
#include "kernels/cross_entropy.hpp"

namespace normlab {
namespace {

// -log softmax(z)[j] for row `row`, in double.
double neg_log_p(const std::vector<float>& z, int V, int row, int j) {
  const float* r = z.data() + static_cast<size_t>(row) * V;
  double mx = -INFINITY, sum = 0.0;
  for (int c = 0; c < V; ++c) mx = std::max(mx, static_cast<double>(r[c]));
  for (int c = 0; c < V; ++c) sum += std::exp(r[c] - mx);
  return mx + std::log(sum) - r[j];
}

// Direct form of the contract: (1 - eps)(-log p_y) + eps mean_j(-log p_j), mean over counted rows.
double reference_loss(const std::vector<float>& z, const std::vector<int32_t>& y, int V,
                      double eps) {
  double total = 0.0;
  int count = 0;
  for (int i = 0; i < static_cast<int>(y.size()); ++i) {
    if (y[i] < 0) continue;
    double smooth = 0.0;
    for (int j = 0; j < V; ++j) smooth += neg_log_p(z, V, i, j);
    total += (1.0 - eps) * neg_log_p(z, V, i, y[i]) + eps * smooth / V;
    ++count;
  }
  return count ? total / count : 0.0;
}

// dlogits_t [V, N] -> the gradient of row i at entry j.
float grad_at(const std::vector<float>& dz_t, int N, int i, int j) {
  return dz_t[static_cast<size_t>(j) * N + i];
}

TEST(CrossEntropy, NoSmoothingIsNegativeLogSoftmaxAtTarget) {
  Rng rng(21);
  const int N = 6, V = 11;
  const auto z = random_vec(static_cast<size_t>(N) * V, rng, 2.0);
  const std::vector<int32_t> y = {3, 0, 10, 7, 7, 1};
  int count = -1;
  const double loss = cross_entropy_forward(z.data(), y.data(), N, V, 0.0f, &count);
  EXPECT_EQ(count, N);
  double ref = 0.0;
  for (int i = 0; i < N; ++i) ref += neg_log_p(z, V, i, y[i]);
  EXPECT_NEAR(loss, ref / N, 1e-6);
  // With eps = 0 and weight 1 the gradient is p - onehot(y).
  std::vector<float> dz_t(z.size());
  count = -1;
  EXPECT_EQ(
      cross_entropy_forward_backward(dz_t.data(), z.data(), y.data(), N, V, 0.0f, 1.0f, &count),
      loss);
  EXPECT_EQ(count, N);
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < V; ++j)
      EXPECT_NEAR(grad_at(dz_t, N, i, j) + (j == y[i]), std::exp(-neg_log_p(z, V, i, j)), 1e-6);
}

TEST(CrossEntropy, LabelSmoothingMatchesDirectFormula) {
  Rng rng(22);
  const int N = 5, V = 9;
  const auto z = random_vec(static_cast<size_t>(N) * V, rng, 2.0);
  const std::vector<int32_t> y = {8, 2, 0, 4, 4};
  std::vector<float> dz_t(z.size());
  for (float eps : {0.1f, 0.5f, 1.0f}) {
    int count = 0;
    const double loss = cross_entropy_forward(z.data(), y.data(), N, V, eps, &count);
    EXPECT_NEAR(loss, reference_loss(z, y, V, eps), 1e-5) << "eps=" << eps;
    EXPECT_EQ(
        cross_entropy_forward_backward(dz_t.data(), z.data(), y.data(), N, V, eps, 1.0f, &count),
        loss);
  }
}

TEST(CrossEntropy, IgnoredRowsAreNotCounted) {
  Rng rng(23);
  const int N = 6, V = 7;
  const auto z = random_vec(static_cast<size_t>(N) * V, rng);
  const std::vector<int32_t> y = {2, -1, 5, -100, 0, -1};
  int count = 0;
  const double loss = cross_entropy_forward(z.data(), y.data(), N, V, 0.1f, &count);
  EXPECT_EQ(count, 3);
  EXPECT_NEAR(loss, reference_loss(z, y, V, 0.1), 1e-6);

  std::vector<float> dz_t(z.size(), 123.0f);
  cross_entropy_forward_backward(dz_t.data(), z.data(), y.data(), N, V, 0.1f, 1.0f, &count);
  for (int i : {1, 3, 5})
    for (int j = 0; j < V; ++j) EXPECT_EQ(grad_at(dz_t, N, i, j), 0.0f) << i;
  for (int i : {0, 2, 4})
    for (int j = 0; j < V; ++j) EXPECT_NE(grad_at(dz_t, N, i, j), 0.0f) << i;

  const std::vector<int32_t> none(N, -1);
  EXPECT_EQ(cross_entropy_forward(z.data(), none.data(), N, V, 0.1f, &count), 0.0);
  EXPECT_EQ(count, 0);
  EXPECT_EQ(
      cross_entropy_forward_backward(dz_t.data(), z.data(), none.data(), N, V, 0.1f, 1.0f, &count),
      0.0);
  for (float g : dz_t) EXPECT_EQ(g, 0.0f);
}

TEST(CrossEntropy, StableForLargeLogits) {
  const int V = 4;
  const std::vector<float> z = {1000.0f, 999.0f, -1000.0f, 998.0f};
  const std::vector<int32_t> y = {1};
  int count = 0;
  const double loss = cross_entropy_forward(z.data(), y.data(), 1, V, 0.0f, &count);
  // -log p_1 = log(e^1 + 1 + e^-1 + e^-2000) with logits shifted by 999.
  EXPECT_NEAR(loss, std::log(std::exp(1.0) + 1.0 + std::exp(-1.0)), 1e-5);
  std::vector<float> dz_t(V);
  cross_entropy_forward_backward(dz_t.data(), z.data(), y.data(), 1, V, 0.0f, 1.0f, &count);
  for (float g : dz_t) EXPECT_TRUE(std::isfinite(g));
  EXPECT_NEAR(dz_t[0], std::exp(1.0) / (std::exp(1.0) + 1.0 + std::exp(-1.0)), 1e-6);
}

TEST(CrossEntropy, RejectsTargetOutsideVocabulary) {
  const std::vector<float> z(3, 0.0f);
  const std::vector<int32_t> y = {3};
  std::vector<float> dz_t(3);
  int count = 0;
  EXPECT_THROW(cross_entropy_forward(z.data(), y.data(), 1, 3, 0.0f, &count), std::out_of_range);
  EXPECT_THROW(
      cross_entropy_forward_backward(dz_t.data(), z.data(), y.data(), 1, 3, 0.0f, 1.0f, &count),
      std::out_of_range);
}

// L(z) = w * sum_i loss_i = w * count * mean loss. Central differences with h = 1e-2: truncation
// ~h^2 L''' / 6 ~ 1e-6, float rounding of the logits ~1e-7 / 2h; the tolerance 1e-3 relative
// (floor 0.01) still catches a wrong sign, a wrong weight, a missing eps term or a transposed
// element. The gradient overwrites: the result must not depend on what dlogits_t held before.
// N = 11 and V = 70 span a full and a partial tile of the kernel in each direction.
TEST(CrossEntropy, GradientMatchesFiniteDifferencesAndOverwrites) {
  Rng rng(24);
  const int N = 11, V = 70;
  const double h = 1e-2;
  const float w = 0.7f;
  auto z = random_vec(static_cast<size_t>(N) * V, rng, 1.5);
  const std::vector<int32_t> y = {1, -1, 69, 0, 3, 64, 63, -1, 7, 8, 65};
  for (float eps : {0.0f, 0.1f}) {
    int count = 0;
    auto loss = [&]() {
      const double mean = cross_entropy_forward(z.data(), y.data(), N, V, eps, &count);
      return w * count * mean;
    };
    std::vector<float> dz_t(z.size(), 0.0f), dz_garbage(z.size(), NAN);
    cross_entropy_forward_backward(dz_t.data(), z.data(), y.data(), N, V, eps, w, &count);
    cross_entropy_forward_backward(dz_garbage.data(), z.data(), y.data(), N, V, eps, w, &count);
    EXPECT_EQ(dz_t, dz_garbage);
    for (int trial = 0; trial < 4; ++trial) {
      const auto u = random_vec(z.size(), rng);  // row-major [N, V], like z
      double analytic = 0.0;
      for (int i = 0; i < N; ++i)
        for (int j = 0; j < V; ++j)
          analytic +=
              static_cast<double>(grad_at(dz_t, N, i, j)) * u[static_cast<size_t>(i) * V + j];
      const std::vector<float> z0 = z;
      for (size_t i = 0; i < z.size(); ++i) z[i] = static_cast<float>(z0[i] + h * u[i]);
      const double lp = loss();
      for (size_t i = 0; i < z.size(); ++i) z[i] = static_cast<float>(z0[i] - h * u[i]);
      const double lm = loss();
      z = z0;
      const double numeric = (lp - lm) / (2.0 * h);
      EXPECT_NEAR(analytic, numeric, 1e-3 * std::max(0.01, std::fabs(numeric)))
          << "eps=" << eps << " trial " << trial;
    }
  }
}

TEST(CrossEntropy, ResultsDoNotDependOnThreadCount) {
  Rng rng(25);
  const int N = 37, V = 150;
  const auto z = random_vec(static_cast<size_t>(N) * V, rng, 3.0);
  std::vector<int32_t> y(N);
  for (int i = 0; i < N; ++i) y[i] = (i % 5 == 4) ? -1 : (i * 7) % V;
  const int saved = omp_get_max_threads();
  double loss[2];
  std::vector<float> dz_t[2];
  for (int n : {1, 2}) {
    omp_set_num_threads(n);
    int count = 0;
    dz_t[n - 1].resize(z.size());
    loss[n - 1] = cross_entropy_forward_backward(dz_t[n - 1].data(), z.data(), y.data(), N, V, 0.1f,
                                                 1.0f, &count);
  }
  omp_set_num_threads(saved);
  EXPECT_EQ(loss[0], loss[1]);
  EXPECT_EQ(dz_t[0], dz_t[1]);
}

}  // namespace
}  // namespace normlab
