// GELU (tanh approximation): values against 0.5 x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3)))
// evaluated in double, and the backward against per-element central differences.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/rng.hpp"
#include "kernels/activation.hpp"

namespace normlab {
namespace {

double gelu_ref(double x) {
  return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}

TEST(Gelu, ForwardValues) {
  // Hand values of the tanh approximation (double precision).
  const std::vector<float> x = {-3.0f, -1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 2.0f, 3.0f};
  const std::vector<double> expect = {
      -0.0036373920817729943, -0.15880800939172324, -0.15428599017485606, 0.0,
      0.34571400982514394,    0.8411919906082768,   1.954597694087775,    2.996362607918227};
  std::vector<float> y(x.size());
  gelu_forward(y.data(), x.data(), x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_NEAR(y[i], expect[i], 1e-6 * (1.0 + std::abs(expect[i]))) << x[i];
    EXPECT_NEAR(y[i], gelu_ref(x[i]), 1e-6 * (1.0 + std::abs(expect[i]))) << x[i];
  }
}

TEST(Gelu, ForwardLargeArrayInParallel) {
  // Large enough to take the OpenMP path.
  Rng rng(5);
  std::vector<float> x(100000), y(x.size());
  for (auto& v : x) v = static_cast<float>(4.0 * rng.normal());
  gelu_forward(y.data(), x.data(), x.size());
  for (size_t i = 0; i < x.size(); i += 97) {
    EXPECT_NEAR(y[i], gelu_ref(x[i]), 2e-6 * (1.0 + std::abs(x[i])));
  }
}

// The gradient overwrites (dx starts as garbage) and may be computed in place (dx = dy).
TEST(Gelu, BackwardMatchesFiniteDifferencesInPlace) {
  Rng rng(9);
  const size_t n = 301;
  std::vector<float> x(n), dy(n), dx(n, NAN);
  for (size_t i = 0; i < n; ++i) {
    x[i] = static_cast<float>(3.0 * rng.normal());
    dy[i] = static_cast<float>(rng.normal());
  }
  gelu_backward(dx.data(), dy.data(), x.data(), n);
  std::vector<float> in_place = dy;
  gelu_backward(in_place.data(), in_place.data(), x.data(), n);
  EXPECT_EQ(in_place, dx);
  // Central difference of the double reference with h = 1e-4: truncation O(h^2) ~ 1e-8, so the
  // 1e-5 tolerance measures the float kernel, while a wrong derivative term is O(0.1).
  const double h = 1e-4;
  for (size_t i = 0; i < n; ++i) {
    const double fd = (gelu_ref(x[i] + h) - gelu_ref(x[i] - h)) / (2.0 * h);
    EXPECT_NEAR(dx[i], dy[i] * fd, 1e-5 * (1.0 + std::abs(dy[i]))) << x[i];
  }
}

}  // namespace
}  // namespace normlab
