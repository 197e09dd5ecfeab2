// The whole-buffer helpers (kernels/vector_ops.hpp) against plain loops, below and above the
// OpenMP threshold, and sum_squares against a double loop and across thread counts.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <vector>

#include "core/rng.hpp"
#include "finite_difference.hpp"
#include "kernels/vector_ops.hpp"

namespace normlab {
namespace {

// Sizes below and above the OpenMP threshold.
class VectorOps : public ::testing::TestWithParam<size_t> {};

TEST_P(VectorOps, AddScaleAndZero) {
  const size_t n = GetParam();
  Rng rng(6);
  auto x = random_vec(n, rng), y = random_vec(n, rng);
  const auto y0 = y;
  add_inplace(y.data(), x.data(), n);
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(y[i], y0[i] + x[i]);
  scale_inplace(y.data(), -0.5f, n);
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(y[i], (y0[i] + x[i]) * -0.5f);
  std::vector<float> z(n, NAN);
  zero(z.data(), n);
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(z[i], 0.0f);
}

INSTANTIATE_TEST_SUITE_P(Sizes, VectorOps, ::testing::Values(size_t{37}, size_t{70001}));

TEST(SumSquares, MatchesDoubleAndIgnoresThreadCount) {
  const size_t n = 100003;  // several reduction chunks, last one partial
  Rng rng(22);
  std::vector<float> x(n);
  for (auto& e : x) e = static_cast<float>(rng.normal());
  double ref = 0.0;
  for (float e : x) ref += static_cast<double>(e) * e;
  double s[2];
  const int saved = omp_get_max_threads();
  for (int t = 0; t < 2; ++t) {
    omp_set_num_threads(t + 1);
    s[t] = sum_squares(x.data(), n);
  }
  omp_set_num_threads(saved);
  EXPECT_NEAR(s[0], ref, 1e-12 * ref);
  EXPECT_EQ(s[0], s[1]);
  EXPECT_EQ(sum_squares(x.data(), 0), 0.0);
}

}  // namespace
}  // namespace normlab
