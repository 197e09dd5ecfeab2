#include "diag/depth_scaling.hpp"

#include <algorithm>
#include <cmath>

namespace normlab {

namespace {

// Thresholds of the verdicts (docs/sanity-check.md explains the choice).
// Forward: growth slower than L^0.25 over the measured depths counts as bounded (with depths
// 2..64 that is less than 2.4x from the shallowest to the deepest stack).
constexpr double kBoundedPower = 0.25;
// Forward: a power law steeper than L^1.5 is no longer "at most linear".
constexpr double kLinearMaxPower = 1.5;
// Backward: the bottom/top gradient ratio of the deepest stack, as fitted, must leave
// [1/4, 4] and move away from the shallowest stack's ratio by the same factor to count as
// vanishing or exploding.
constexpr double kGradFactor = 4.0;

// Log residual sum of squares of the affine law r = a + k L, fitted by least squares on the
// relative error (weights 1/r^2, so that its residuals are comparable with the log-space fits);
// +inf when the fitted line is not positive at every depth.
double affine_log_rss(const std::vector<double>& L, const std::vector<double>& logr) {
  double sw = 0, swx = 0, swy = 0, swxx = 0, swxy = 0;
  for (size_t i = 0; i < L.size(); ++i) {
    const double r = std::exp(logr[i]), w = 1.0 / (r * r);
    sw += w, swx += w * L[i], swy += w * r, swxx += w * L[i] * L[i], swxy += w * L[i] * r;
  }
  const double det = sw * swxx - swx * swx;
  if (!(det > 0)) return INFINITY;
  const double k = (sw * swxy - swx * swy) / det, a = (swy - k * swx) / sw;
  double rss = 0;
  for (size_t i = 0; i < L.size(); ++i) {
    const double f = a + k * L[i];
    if (!(f > 0)) return INFINITY;
    const double e = logr[i] - std::log(f);
    rss += e * e;
  }
  return rss;
}

// Fitted log ratio at depth L under the law that fits best (exponential or power).
double fitted_log(const DepthScaling& s, double L) {
  if (s.exponential.rss < s.power.rss) return s.exponential.intercept + s.exponential.slope * L;
  return s.power.intercept + s.power.slope * std::log(L);
}

}  // namespace

LineFit fit_line(const std::vector<double>& x, const std::vector<double>& y) {
  LineFit f;
  const size_t n = x.size();
  if (n == 0) return f;
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; ++i) mx += x[i], my += y[i];
  mx /= n, my /= n;
  double sxx = 0, sxy = 0;
  for (size_t i = 0; i < n; ++i) sxx += (x[i] - mx) * (x[i] - mx), sxy += (x[i] - mx) * (y[i] - my);
  f.slope = sxx > 0 ? sxy / sxx : 0;
  f.intercept = my - f.slope * mx;
  for (size_t i = 0; i < n; ++i) {
    const double e = y[i] - f.intercept - f.slope * x[i];
    f.rss += e * e;
  }
  return f;
}

DepthScaling fit_depth_scaling(const std::vector<int>& depths, const std::vector<double>& ratios) {
  DepthScaling s;
  std::vector<double> L, logL, logr;
  for (size_t i = 0; i < depths.size() && i < ratios.size(); ++i) {
    if (std::isinf(ratios[i]) && ratios[i] > 0) s.overflow = true;
    if (!std::isfinite(ratios[i]) || !(ratios[i] > 0)) continue;
    L.push_back(depths[i]), logL.push_back(std::log(static_cast<double>(depths[i])));
    logr.push_back(std::log(ratios[i]));
  }
  s.points = static_cast<int>(L.size());
  if (L.empty()) return s;
  s.min_depth = static_cast<int>(*std::min_element(L.begin(), L.end()));
  s.max_depth = static_cast<int>(*std::max_element(L.begin(), L.end()));
  s.exponential = fit_line(L, logr);
  s.power = fit_line(logL, logr);
  s.constant_rss = fit_line(std::vector<double>(L.size(), 0.0), logr).rss;
  s.affine_rss = affine_log_rss(L, logr);
  return s;
}

bool too_few_depths(const DepthScaling& s) {
  // An overflowed depth counts: it is a measurement, just not a finite one.
  const int points = s.points + (s.overflow ? 1 : 0);
  return points < kMinDepthsForLaw || s.max_depth < kMinDepthSpan * std::max(1, s.min_depth);
}

// Forward (Kan et al. 2025): bounded when the state does not grow appreciably with depth;
// exponential when log(growth) is better explained by a line in L than by a power law or an
// affine law in L (or the forward overflowed); otherwise linear (a power law up to L^1.5).
ForwardClass classify_forward(const DepthScaling& s) {
  if (too_few_depths(s)) return ForwardClass::Undetermined;
  if (s.overflow) return ForwardClass::Exponential;
  if (s.power.slope < kBoundedPower) return ForwardClass::Bounded;
  if (s.power.slope > kLinearMaxPower) return ForwardClass::Exponential;
  if (s.exponential.slope > 0 && s.exponential.rss < std::min(s.power.rss, s.affine_rss))
    return ForwardClass::Exponential;
  return ForwardClass::Linear;
}

BackwardClass classify_backward(const DepthScaling& s) {
  if (too_few_depths(s)) return BackwardClass::Undetermined;
  if (s.overflow) return BackwardClass::Exploding;
  const double deep = fitted_log(s, s.max_depth), shallow = fitted_log(s, s.min_depth);
  const double k = std::log(kGradFactor);
  if (deep < -k && deep - shallow < -k) return BackwardClass::Vanishing;
  if (deep > k && deep - shallow > k) return BackwardClass::Exploding;
  return BackwardClass::Flat;
}

const char* to_string(ForwardClass c) {
  switch (c) {
    case ForwardClass::Bounded:
      return "bounded";
    case ForwardClass::Linear:
      return "linear";
    case ForwardClass::Exponential:
      return "exponential";
    case ForwardClass::Undetermined:
      break;
  }
  return "too few depths";
}

const char* to_string(BackwardClass c) {
  switch (c) {
    case BackwardClass::Vanishing:
      return "vanishing";
    case BackwardClass::Flat:
      return "flat";
    case BackwardClass::Exploding:
      return "exploding";
    case BackwardClass::Undetermined:
      break;
  }
  return "too few depths";
}

}  // namespace normlab
