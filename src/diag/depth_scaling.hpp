// How a measurement of a stack scales with its depth L (the depth sanity check, Kan et al. 2025,
// arXiv 2510.09904, Sec. "sanity check"; docs/sanity-check.md): least-squares fits of the depth
// laws to log(ratio), and the forward (bounded, linear, exponential) and backward (vanishing,
// flat, exploding) verdicts read from them. Pure arithmetic on the measurements.
#pragma once
#include <vector>

namespace normlab {

// Least squares y = intercept + slope * x.
struct LineFit {
  double intercept = 0, slope = 0, rss = 0;
};
LineFit fit_line(const std::vector<double>& x, const std::vector<double>& y);

// The three depth laws fitted to log(ratio) over the finite, positive measurements:
//   exponential  log r = a + rate * L        (r multiplies by e^rate per block)
//   power        log r = a + power * log L   (r ~ L^power; linear growth is power 1)
//   constant     log r = a                   (bounded)
// and the affine law r = a + k L (fitted on relative error, its residuals taken in log space).
struct DepthScaling {
  int points = 0;  // finite measurements used by the fits
  int min_depth = 0, max_depth = 0;
  LineFit exponential, power;
  double constant_rss = 0, affine_rss = 0;
  bool overflow = false;  // a measurement was +inf (or the forward overflowed to NaN)
};
DepthScaling fit_depth_scaling(const std::vector<int>& depths, const std::vector<double>& ratios);

// A law is named only from at least kMinDepthsForLaw depths spanning at least kMinDepthSpan x
// (the deepest over the shallowest): fewer points fit any of the laws. Otherwise the verdict is
// Undetermined, printed "too few depths".
constexpr int kMinDepthsForLaw = 4, kMinDepthSpan = 4;
bool too_few_depths(const DepthScaling& s);

enum class ForwardClass { Bounded, Linear, Exponential, Undetermined };
enum class BackwardClass { Vanishing, Flat, Exploding, Undetermined };
ForwardClass classify_forward(const DepthScaling& s);
BackwardClass classify_backward(const DepthScaling& s);
const char* to_string(ForwardClass c);
const char* to_string(BackwardClass c);

}  // namespace normlab
