// Scaled residual out = alpha x + dt branch and its backward (overwriting, in place allowed,
// nullptr-tolerant), against direct formulas and central differences.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/rng.hpp"
#include "finite_difference.hpp"
#include "kernels/residual.hpp"

namespace normlab {
namespace {

constexpr float kAlpha = 1.7f, kDt = 0.3f;

// Sizes below and above the OpenMP threshold.
class Residual : public ::testing::TestWithParam<size_t> {};

TEST_P(Residual, ForwardMatchesFormula) {
  const size_t n = GetParam();
  Rng rng(3);
  auto x = random_vec(n, rng), br = random_vec(n, rng);
  std::vector<float> out(n);
  residual_forward(out.data(), x.data(), kAlpha, br.data(), kDt, n);
  for (size_t i = 0; i < n; ++i) {
    const double y = static_cast<double>(kAlpha) * x[i] + static_cast<double>(kDt) * br[i];
    ASSERT_NEAR(out[i], y, 1e-6 * (1.0 + std::abs(y)));
  }
}

TEST_P(Residual, BackwardMatchesFiniteDifferences) {
  const size_t n = GetParam();
  Rng rng(4);
  auto x = random_vec(n, rng), br = random_vec(n, rng), w = random_vec(n, rng);
  std::vector<float> out(n), dx(n, NAN), dbr(n, NAN);
  residual_backward(dx.data(), dbr.data(), w.data(), kAlpha, kDt, n);
  // In place: either output may be the incoming gradient.
  std::vector<float> g = w, other(n, NAN);
  residual_backward(g.data(), other.data(), g.data(), kAlpha, kDt, n);
  EXPECT_EQ(g, dx);
  EXPECT_EQ(other, dbr);
  g = w;
  residual_backward(other.data(), g.data(), g.data(), kAlpha, kDt, n);
  EXPECT_EQ(other, dx);
  EXPECT_EQ(g, dbr);
  // L = sum w * out is linear: with a unit step the central difference carries only float
  // rounding (~1e-6 * sqrt(n)), against directional derivatives of O(sqrt(n)); relative
  // tolerance 1e-4 (absolute floor 1e-4).
  const double h = 1.0;
  for (int which = 0; which < 2; ++which) {
    std::vector<float>& p = which == 0 ? x : br;
    const std::vector<float>& grad = which == 0 ? dx : dbr;
    const auto u = random_vec(n, rng);
    double analytic = 0.0;
    for (size_t i = 0; i < n; ++i) analytic += static_cast<double>(grad[i]) * u[i];
    const std::vector<float> p0 = p;
    for (size_t i = 0; i < n; ++i) p[i] = static_cast<float>(p0[i] + h * u[i]);
    residual_forward(out.data(), x.data(), kAlpha, br.data(), kDt, n);
    const double lp = dot(w, out);
    for (size_t i = 0; i < n; ++i) p[i] = static_cast<float>(p0[i] - h * u[i]);
    residual_forward(out.data(), x.data(), kAlpha, br.data(), kDt, n);
    const double lm = dot(w, out);
    p = p0;
    const double fd = (lp - lm) / (2.0 * h);
    EXPECT_NEAR(analytic, fd, 1e-4 * std::max(1.0, std::abs(fd))) << which;
  }
}

TEST_P(Residual, BackwardSkipsNullGradients) {
  const size_t n = GetParam();
  Rng rng(5);
  auto dy = random_vec(n, rng);
  std::vector<float> dx(n, NAN), dbr(n, NAN);
  residual_backward(dx.data(), nullptr, dy.data(), kAlpha, kDt, n);
  residual_backward(nullptr, dbr.data(), dy.data(), kAlpha, kDt, n);
  for (size_t i = 0; i < n; ++i) {
    ASSERT_FLOAT_EQ(dx[i], kAlpha * dy[i]);
    ASSERT_FLOAT_EQ(dbr[i], kDt * dy[i]);
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, Residual, ::testing::Values(size_t{37}, size_t{70001}));

}  // namespace
}  // namespace normlab
