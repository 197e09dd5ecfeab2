// The depth laws of the sanity check (docs/sanity-check.md): the fits and verdicts on synthetic
// sequences whose law is known exactly.
#include <gtest/gtest.h>

#include <cmath>

#include "diag/depth_scaling.hpp"

using namespace normlab;

namespace {

const std::vector<int> kDepths = {2, 4, 8, 16, 32, 64};

std::vector<double> law(const std::vector<int>& depths, double (*f)(double)) {
  std::vector<double> r;
  for (int L : depths) r.push_back(f(L));
  return r;
}

}  // namespace

TEST(SanityFit, LineIsExactOnALine) {
  LineFit f = fit_line({1, 2, 3, 4}, {3, 5, 7, 9});
  EXPECT_NEAR(f.slope, 2.0, 1e-12);
  EXPECT_NEAR(f.intercept, 1.0, 1e-12);
  EXPECT_NEAR(f.rss, 0.0, 1e-20);
}

TEST(SanityFit, ExponentialGrowth) {
  // r = 0.5 * 1.3^L: log r is a line in L with slope log 1.3.
  auto s =
      fit_depth_scaling(kDepths, law(kDepths, [](double L) { return 0.5 * std::pow(1.3, L); }));
  EXPECT_EQ(s.points, 6);
  EXPECT_NEAR(s.exponential.slope, std::log(1.3), 1e-9);
  EXPECT_NEAR(s.exponential.rss, 0.0, 1e-12);
  EXPECT_GT(s.power.rss, 1.0);
  EXPECT_EQ(classify_forward(s), ForwardClass::Exponential);
  EXPECT_EQ(classify_backward(s), BackwardClass::Exploding);
}

TEST(SanityFit, ExponentialOnFewDepths) {
  const std::vector<int> d = {2, 4, 8, 16};
  auto s = fit_depth_scaling(d, law(d, [](double L) { return std::pow(1.15, L); }));
  EXPECT_EQ(classify_forward(s), ForwardClass::Exponential);
}

TEST(SanityFit, LinearGrowth) {
  auto s = fit_depth_scaling(kDepths, law(kDepths, [](double L) { return 0.7 * L; }));
  EXPECT_NEAR(s.power.slope, 1.0, 1e-9);
  EXPECT_NEAR(s.power.rss, 0.0, 1e-12);
  EXPECT_NEAR(s.affine_rss, 0.0, 1e-12);
  EXPECT_EQ(classify_forward(s), ForwardClass::Linear);
}

TEST(SanityFit, SquareRootAndAffineGrowthAreLinear) {
  auto s = fit_depth_scaling(kDepths, law(kDepths, [](double L) { return std::sqrt(L); }));
  EXPECT_NEAR(s.power.slope, 0.5, 1e-9);
  EXPECT_EQ(classify_forward(s), ForwardClass::Linear);
  // A large offset bends log r like a slow exponential at small depths; the affine law keeps it
  // on the linear side.
  auto a = fit_depth_scaling(kDepths, law(kDepths, [](double L) { return 3 + 0.2 * L; }));
  EXPECT_NEAR(a.affine_rss, 0.0, 1e-12);
  EXPECT_EQ(classify_forward(a), ForwardClass::Linear);
}

TEST(SanityFit, ConstantIsBoundedAndFlat) {
  auto s = fit_depth_scaling(kDepths, law(kDepths, [](double) { return 2.5; }));
  EXPECT_NEAR(s.constant_rss, 0.0, 1e-20);
  EXPECT_NEAR(s.power.slope, 0.0, 1e-12);
  EXPECT_EQ(classify_forward(s), ForwardClass::Bounded);
  EXPECT_EQ(classify_backward(s), BackwardClass::Flat);
}

TEST(SanityFit, GradientDirections) {
  auto vanish = fit_depth_scaling(kDepths, law(kDepths, [](double L) { return std::pow(0.9, L); }));
  EXPECT_EQ(classify_backward(vanish), BackwardClass::Vanishing);
  auto vanish_power = fit_depth_scaling(kDepths, law(kDepths, [](double L) { return 2 / L; }));
  EXPECT_EQ(classify_backward(vanish_power), BackwardClass::Vanishing);
  // A ratio within a factor 4 of 1 at every depth is flat, whatever its slope.
  auto mild = fit_depth_scaling(kDepths, law(kDepths, [](double L) { return std::pow(L, 0.3); }));
  EXPECT_EQ(classify_backward(mild), BackwardClass::Flat);
  // A constant offset is not a depth trend.
  auto offset = fit_depth_scaling(kDepths, law(kDepths, [](double) { return 10.0; }));
  EXPECT_EQ(classify_backward(offset), BackwardClass::Flat);
}

TEST(SanityFit, OverflowAndMissingPoints) {
  auto s = fit_depth_scaling(kDepths, {2, 8, 100, 1e6, INFINITY, NAN});
  EXPECT_TRUE(s.overflow);
  EXPECT_EQ(s.points, 4);
  EXPECT_EQ(classify_forward(s), ForwardClass::Exponential);
  EXPECT_EQ(classify_backward(s), BackwardClass::Exploding);
  auto few = fit_depth_scaling(kDepths, {1, 2, NAN, NAN, NAN, NAN});
  EXPECT_FALSE(few.overflow);
  EXPECT_EQ(classify_forward(few), ForwardClass::Undetermined);
  EXPECT_EQ(classify_backward(few), BackwardClass::Undetermined);
}
