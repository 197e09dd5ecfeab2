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

// Admin's weighted shortcut out = alpha omega x + dt branch over rows of width d: the forward
// against the formula, and dx, dbranch, domega against central differences of L = sum w * out.
TEST_P(Residual, WeightedShortcutMatchesFormulaAndFiniteDifferences) {
  const int d = 37;
  const size_t rows = GetParam() / d + 1, n = rows * d;
  Rng rng(6);
  auto x = random_vec(n, rng), br = random_vec(n, rng), w = random_vec(n, rng);
  auto omega = random_vec(d, rng);
  std::vector<float> out(n);
  weighted_residual_forward(out.data(), x.data(), omega.data(), kAlpha, br.data(), kDt, rows, d);
  for (size_t i = 0; i < n; ++i) {
    const double y =
        static_cast<double>(kAlpha) * omega[i % d] * x[i] + static_cast<double>(kDt) * br[i];
    ASSERT_NEAR(out[i], y, 1e-5 * (1.0 + std::abs(y)));
  }
  std::vector<float> dx(n, NAN), dbr(n, NAN), domega(d, 0.5f);
  weighted_residual_backward(dx.data(), dbr.data(), domega.data(), w.data(), x.data(), omega.data(),
                             kAlpha, kDt, rows, d);
  for (float& g : domega) g -= 0.5f;  // it accumulates
  // In place: dx may be the incoming gradient.
  std::vector<float> g = w, other(n, NAN), domega2(d, 0.0f);
  weighted_residual_backward(g.data(), other.data(), domega2.data(), g.data(), x.data(),
                             omega.data(), kAlpha, kDt, rows, d);
  EXPECT_EQ(g, dx);
  EXPECT_EQ(other, dbr);
  // L is linear in each of x, branch and omega: a unit step leaves only float rounding.
  const double h = 1.0;
  for (int which = 0; which < 3; ++which) {
    std::vector<float>& p = which == 0 ? x : which == 1 ? br : omega;
    const std::vector<float>& grad = which == 0 ? dx : which == 1 ? dbr : domega;
    const auto u = random_vec(p.size(), rng);
    double analytic = 0.0;
    for (size_t i = 0; i < p.size(); ++i) analytic += static_cast<double>(grad[i]) * u[i];
    const std::vector<float> p0 = p;
    for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<float>(p0[i] + h * u[i]);
    weighted_residual_forward(out.data(), x.data(), omega.data(), kAlpha, br.data(), kDt, rows, d);
    const double lp = dot(w, out);
    for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<float>(p0[i] - h * u[i]);
    weighted_residual_forward(out.data(), x.data(), omega.data(), kAlpha, br.data(), kDt, rows, d);
    const double lm = dot(w, out);
    p = p0;
    const double fd = (lp - lm) / (2.0 * h);
    EXPECT_NEAR(analytic, fd, 1e-4 * std::max(1.0, std::abs(fd))) << which;
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, Residual, ::testing::Values(size_t{37}, size_t{70001}));

}  // namespace
}  // namespace normlab
