// Shared helpers of the kernel tests: random vectors, double-precision dot products, and the
// central difference (L(x + h u) - L(x - h u)) / 2h along a direction u (x restored afterwards).
#pragma once
#include <functional>
#include <vector>

#include "core/rng.hpp"

namespace normlab {

inline std::vector<float> random_vec(size_t n, Rng& rng, double scale = 1.0, double offset = 0.0) {
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(offset + scale * rng.normal());
  return v;
}

inline double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

inline double directional_fd(std::vector<float>& x, const std::vector<float>& u, double h,
                             const std::function<double()>& loss) {
  const std::vector<float> x0 = x;
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(x0[i] + h * u[i]);
  const double lp = loss();
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(x0[i] - h * u[i]);
  const double lm = loss();
  x = x0;
  return (lp - lm) / (2.0 * h);
}

}  // namespace normlab
