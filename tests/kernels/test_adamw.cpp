// AdamW against the update written out by hand in double (bias correction, decoupled weight
// decay).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/rng.hpp"
#include "kernels/adamw.hpp"

namespace normlab {
namespace {

constexpr float kLr = 1e-2f, kB1 = 0.9f, kB2 = 0.999f, kEps = 1e-8f, kWd = 0.1f;

TEST(AdamW, FirstStepIsSignedLearningRatePlusDecay) {
  // With m = v = 0 and t = 1 the bias-corrected moments are g and g^2, so the step is
  // lr * (g / (|g| + eps) + wd * p) ~= lr * (sign(g) + wd * p).
  std::vector<float> p = {1.0f, -2.0f, 0.5f}, g = {0.3f, -4.0f, 1e-3f}, m(3, 0.0f), v(3, 0.0f);
  const std::vector<float> p0 = p;
  adamw_update(p.data(), g.data(), m.data(), v.data(), p.size(), kLr, kB1, kB2, kEps, kWd, 1);
  for (size_t i = 0; i < p.size(); ++i) {
    const double sign = g[i] > 0 ? 1.0 : -1.0;
    EXPECT_NEAR(p[i], p0[i] - kLr * (sign + kWd * p0[i]), 1e-6);
    EXPECT_NEAR(m[i], (1.0 - kB1) * g[i], 1e-7);
    EXPECT_NEAR(v[i], (1.0 - kB2) * g[i] * g[i], 1e-9);
  }
}

TEST(AdamW, StepMatchesHandFormula) {
  const size_t n = 50000;  // above the OpenMP threshold
  const long step = 7;
  Rng rng(21);
  std::vector<float> p(n), g(n), m(n), v(n);
  for (size_t i = 0; i < n; ++i) {
    p[i] = static_cast<float>(rng.normal());
    g[i] = static_cast<float>(rng.normal());
    m[i] = static_cast<float>(0.1 * rng.normal());
    v[i] = static_cast<float>(0.01 * std::abs(rng.normal()));
  }
  const auto p0 = p, m0 = m, v0 = v;
  adamw_update(p.data(), g.data(), m.data(), v.data(), n, kLr, kB1, kB2, kEps, kWd, step);
  const double c1 = 1.0 - std::pow(static_cast<double>(kB1), step);
  const double c2 = 1.0 - std::pow(static_cast<double>(kB2), step);
  for (size_t i = 0; i < n; ++i) {
    const double mi = kB1 * static_cast<double>(m0[i]) + (1.0 - kB1) * g[i];
    const double vi = kB2 * static_cast<double>(v0[i]) + (1.0 - kB2) * g[i] * g[i];
    const double pi = p0[i] - kLr * ((mi / c1) / (std::sqrt(vi / c2) + kEps) + kWd * p0[i]);
    // Float arithmetic: ~1e-7 relative on the moments, and the update itself is O(lr), so an
    // absolute 1e-6 on the parameter is ~1e-4 of the step (a missing bias correction is ~50%).
    ASSERT_NEAR(m[i], mi, 1e-6 * (1.0 + std::abs(mi))) << i;
    ASSERT_NEAR(v[i], vi, 1e-6 * vi + 1e-12) << i;
    ASSERT_NEAR(p[i], pi, 1e-6) << i;
  }
}

}  // namespace
}  // namespace normlab
