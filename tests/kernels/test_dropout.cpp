// Inverted dropout: keep rate, kept-value scaling, the mask's agreement with uniform01 and its
// independence of the thread count, and the backward (which recomputes the mask) against
// central differences, overwriting its output (kernels/README.md) and in place.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <vector>

#include "core/rng.hpp"
#include "kernels/dropout.hpp"

namespace normlab {
namespace {

constexpr size_t kN = 200000;  // above the OpenMP threshold
constexpr float kP = 0.1f;
constexpr uint64_t kSeed = 42, kStream = 7;
constexpr float kPrefill = 0.25f;

std::vector<float> positive_input(size_t n) {
  Rng rng(11);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(1.0 + std::abs(rng.normal()));
  return v;
}

TEST(Dropout, KeepRateScaleAndMask) {
  const auto in = positive_input(kN);
  std::vector<float> out(kN);
  dropout_forward(out.data(), in.data(), kP, kSeed, kStream, kN);
  size_t kept = 0;
  for (size_t i = 0; i < kN; ++i) {
    const bool keep = uniform01(kSeed, kStream, i) >= kP;
    ASSERT_EQ(out[i] != 0.0f, keep) << i;
    if (keep) {
      ++kept;
      ASSERT_NEAR(out[i], in[i] / (1.0 - kP), 1e-6 * out[i]);
    }
  }
  // Binomial: the kept fraction has standard deviation sqrt(p (1-p) / n) ~ 6.7e-4; allow 5 sigma.
  const double rate = static_cast<double>(kept) / kN;
  EXPECT_NEAR(rate, 1.0 - kP, 5.0 * std::sqrt(kP * (1.0 - kP) / kN));
}

TEST(Dropout, MaskIndependentOfThreadCountAndStream) {
  const auto in = positive_input(kN);
  std::vector<float> out[2];
  const int saved = omp_get_max_threads();
  for (int t = 0; t < 2; ++t) {
    omp_set_num_threads(t + 1);
    out[t].resize(kN);
    dropout_forward(out[t].data(), in.data(), kP, kSeed, kStream, kN);
  }
  omp_set_num_threads(saved);
  EXPECT_EQ(out[0], out[1]);
  std::vector<float> other(kN);
  dropout_forward(other.data(), in.data(), kP, kSeed, kStream + 1, kN);
  EXPECT_NE(out[0], other);
}

TEST(Dropout, BackwardMatchesFiniteDifferencesAndOverwrites) {
  const size_t n = 1001;
  Rng rng(12);
  std::vector<float> in(n), w(n), u(n), out(n), din(n, NAN);
  for (size_t i = 0; i < n; ++i) {
    in[i] = static_cast<float>(rng.normal());
    w[i] = static_cast<float>(rng.normal());
    u[i] = static_cast<float>(rng.normal());
  }
  dropout_backward(din.data(), w.data(), kP, kSeed, kStream, n);
  // L = sum w * dropout(in) is linear in `in`; with a unit step the difference quotient only
  // carries float rounding (~1e-5) against an O(30) derivative: tolerance 1e-4 relative.
  auto loss = [&](double h) {
    std::vector<float> x(n);
    for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(in[i] + h * u[i]);
    dropout_forward(out.data(), x.data(), kP, kSeed, kStream, n);
    double s = 0.0;
    for (size_t i = 0; i < n; ++i) s += static_cast<double>(w[i]) * out[i];
    return s;
  };
  const double h = 1.0;
  const double fd = (loss(h) - loss(-h)) / (2.0 * h);
  double analytic = 0.0;
  for (size_t i = 0; i < n; ++i) analytic += static_cast<double>(din[i]) * u[i];
  EXPECT_NEAR(analytic, fd, 1e-4 * std::max(1.0, std::abs(fd)));
  for (size_t i = 0; i < n; ++i) {
    if (uniform01(kSeed, kStream, i) < kP) {
      ASSERT_EQ(din[i], 0.0f) << i;
    }
  }
  std::vector<float> in_place = w;
  dropout_backward(in_place.data(), in_place.data(), kP, kSeed, kStream, n);
  EXPECT_EQ(in_place, din);
}

TEST(Dropout, ZeroRateCopies) {
  const auto in = positive_input(1000);
  std::vector<float> out(in.size()), din(in.size(), kPrefill);
  dropout_forward(out.data(), in.data(), 0.0f, kSeed, kStream, in.size());
  EXPECT_EQ(out, in);
  dropout_backward(din.data(), in.data(), 0.0f, kSeed, kStream, in.size());
  EXPECT_EQ(din, in);
}

}  // namespace
}  // namespace normlab
