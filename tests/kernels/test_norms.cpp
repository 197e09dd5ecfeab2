// LayerNorm, RMSNorm and DyT: forwards against double-precision formulas; backwards against
// central finite differences of L = sum(w * forward(...)) along random directions, for the input
// and every parameter. The contract (kernels/README.md) is checked with them: parameter gradients
// are pre-filled with kPrefill, so that a kernel which overwrites instead of accumulating fails,
// and dx with NaN, so that one which accumulates into dx fails; dx computed in place (dx = dy)
// must equal it bit for bit. Shape N=67, d=33 spans several row chunks of
// uneven size; parameter gradients are also compared bit for bit across 1 and 2 threads.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "core/rng.hpp"
#include "finite_difference.hpp"
#include "kernels/norms.hpp"

namespace normlab {
namespace {

constexpr int kN = 67;
constexpr int kD = 33;
constexpr float kEps = 1e-5f;
constexpr float kPrefill = 0.25f;
// Central-difference step. The forward is float, so L carries ~1e-6 absolute rounding noise,
// i.e. ~1e-4 in the difference quotient; truncation error is O(h^2) ~ 1e-4 relative. Directional
// derivatives are O(10)-O(50), so a relative tolerance of 1e-3 (absolute floor 1e-3) is loose
// enough for rounding yet ~100x tighter than a dropped Jacobian term (e.g. LayerNorm's
// mean-subtraction term moves the result by ~10-20%).
constexpr double kStep = 1e-2;
constexpr double kRelTol = 1e-3;

// For two random directions u: <grad - prefill, u> must match the finite difference along u.
void expect_gradient(const char* what, std::vector<float>& x, const std::vector<float>& grad,
                     const std::function<double()>& loss, Rng& rng, float prefill = kPrefill) {
  for (int rep = 0; rep < 2; ++rep) {
    const std::vector<float> u = random_vec(x.size(), rng);
    double analytic = 0.0;
    for (size_t i = 0; i < x.size(); ++i)
      analytic += (static_cast<double>(grad[i]) - prefill) * u[i];
    const double fd = directional_fd(x, u, kStep, loss);
    EXPECT_NEAR(analytic, fd, kRelTol * std::max(1.0, std::abs(fd)))
        << what << " direction " << rep;
  }
}

struct Data {
  Rng rng{1234};
  // Offset and spread so that the mean and scale really are removed by the normalization.
  std::vector<float> x = random_vec(kN * kD, rng, 2.0, 0.7);
  std::vector<float> g = random_vec(kD, rng, 0.3, 1.0);
  std::vector<float> b = random_vec(kD, rng, 0.5);
  std::vector<float> w = random_vec(kN * kD, rng);  // the projection dL/dy
  std::vector<float> out = std::vector<float>(kN * kD);
  std::vector<float> stat1 = std::vector<float>(kN), stat2 = std::vector<float>(kN);
};

TEST(LayerNorm, ForwardMatchesDoubleFormula) {
  Data s;
  layernorm_forward(s.out.data(), s.stat1.data(), s.stat2.data(), s.x.data(), s.g.data(),
                    s.b.data(), kN, kD, kEps);
  for (int i = 0; i < kN; ++i) {
    double m = 0.0, v = 0.0;
    for (int j = 0; j < kD; ++j) m += s.x[i * kD + j];
    m /= kD;
    for (int j = 0; j < kD; ++j) v += (s.x[i * kD + j] - m) * (s.x[i * kD + j] - m);
    v /= kD;
    const double r = 1.0 / std::sqrt(v + kEps);
    EXPECT_NEAR(s.stat1[i], m, 1e-5);
    EXPECT_NEAR(s.stat2[i], r, 1e-5 * r);
    for (int j = 0; j < kD; ++j) {
      const double y = s.g[j] * (s.x[i * kD + j] - m) * r + s.b[j];
      EXPECT_NEAR(s.out[i * kD + j], y, 1e-5 * (1.0 + std::abs(y)));
    }
  }
}

TEST(LayerNorm, UnitGainGivesZeroMeanUnitVariance) {
  Data s;
  std::vector<float> ones(kD, 1.0f), zeros(kD, 0.0f);
  layernorm_forward(s.out.data(), s.stat1.data(), s.stat2.data(), s.x.data(), ones.data(),
                    zeros.data(), kN, kD, kEps);
  for (int i = 0; i < kN; ++i) {
    double m = 0.0, v = 0.0;
    for (int j = 0; j < kD; ++j) m += s.out[i * kD + j];
    m /= kD;
    for (int j = 0; j < kD; ++j) v += (s.out[i * kD + j] - m) * (s.out[i * kD + j] - m);
    v /= kD;
    EXPECT_NEAR(m, 0.0, 1e-6);
    // var(x) is ~4, so eps shrinks the output variance by ~eps/4 ~ 2.5e-6.
    EXPECT_NEAR(v, 1.0, 2e-5);
  }
}

TEST(LayerNorm, BackwardMatchesFiniteDifferences) {
  Data s;
  std::vector<float> mean(kN), rstd(kN);
  auto loss = [&] {
    layernorm_forward(s.out.data(), mean.data(), rstd.data(), s.x.data(), s.g.data(), s.b.data(),
                      kN, kD, kEps);
    return dot(s.w, s.out);
  };
  loss();
  std::vector<float> dx(kN * kD, NAN), dg(kD, kPrefill), db(kD, kPrefill);
  layernorm_backward(dx.data(), dg.data(), db.data(), s.w.data(), s.x.data(), s.g.data(),
                     mean.data(), rstd.data(), kN, kD);
  std::vector<float> in_place = s.w, pg(kD, kPrefill), pb(kD, kPrefill);
  layernorm_backward(in_place.data(), pg.data(), pb.data(), in_place.data(), s.x.data(), s.g.data(),
                     mean.data(), rstd.data(), kN, kD);
  EXPECT_EQ(in_place, dx);
  expect_gradient("dx", s.x, dx, loss, s.rng, 0.0f);
  expect_gradient("dweight", s.g, dg, loss, s.rng);
  expect_gradient("dbias", s.b, db, loss, s.rng);
}

TEST(RMSNorm, ForwardMatchesDoubleFormula) {
  Data s;
  rmsnorm_forward(s.out.data(), s.stat2.data(), s.x.data(), s.g.data(), kN, kD, kEps);
  for (int i = 0; i < kN; ++i) {
    double ms = 0.0;
    for (int j = 0; j < kD; ++j) ms += static_cast<double>(s.x[i * kD + j]) * s.x[i * kD + j];
    const double r = 1.0 / std::sqrt(ms / kD + kEps);
    EXPECT_NEAR(s.stat2[i], r, 1e-5 * r);
    for (int j = 0; j < kD; ++j) {
      const double y = s.g[j] * s.x[i * kD + j] * r;
      EXPECT_NEAR(s.out[i * kD + j], y, 1e-5 * (1.0 + std::abs(y)));
    }
  }
}

TEST(RMSNorm, BackwardMatchesFiniteDifferences) {
  Data s;
  std::vector<float> rstd(kN);
  auto loss = [&] {
    rmsnorm_forward(s.out.data(), rstd.data(), s.x.data(), s.g.data(), kN, kD, kEps);
    return dot(s.w, s.out);
  };
  loss();
  std::vector<float> dx(kN * kD, NAN), dg(kD, kPrefill);
  rmsnorm_backward(dx.data(), dg.data(), s.w.data(), s.x.data(), s.g.data(), rstd.data(), kN, kD);
  std::vector<float> in_place = s.w, pg(kD, kPrefill);
  rmsnorm_backward(in_place.data(), pg.data(), in_place.data(), s.x.data(), s.g.data(), rstd.data(),
                   kN, kD);
  EXPECT_EQ(in_place, dx);
  expect_gradient("dx", s.x, dx, loss, s.rng, 0.0f);
  expect_gradient("dweight", s.g, dg, loss, s.rng);
}

TEST(DyT, ForwardMatchesDoubleFormula) {
  Data s;
  const float alpha = 0.7f;
  dyt_forward(s.out.data(), s.x.data(), &alpha, s.g.data(), s.b.data(), kN, kD);
  for (int i = 0; i < kN; ++i) {
    for (int j = 0; j < kD; ++j) {
      const double y = s.g[j] * std::tanh(static_cast<double>(alpha) * s.x[i * kD + j]) + s.b[j];
      EXPECT_NEAR(s.out[i * kD + j], y, 1e-6 * (1.0 + std::abs(y)));
    }
  }
}

TEST(DyT, BackwardMatchesFiniteDifferences) {
  Data s;
  std::vector<float> alpha = {0.7f};
  auto loss = [&] {
    dyt_forward(s.out.data(), s.x.data(), alpha.data(), s.g.data(), s.b.data(), kN, kD);
    return dot(s.w, s.out);
  };
  std::vector<float> dx(kN * kD, NAN), dg(kD, kPrefill), db(kD, kPrefill);
  std::vector<float> dalpha = {kPrefill};
  dyt_backward(dx.data(), dalpha.data(), dg.data(), db.data(), s.w.data(), s.x.data(), alpha.data(),
               s.g.data(), kN, kD);
  std::vector<float> in_place = s.w, pg(kD, kPrefill), pb(kD, kPrefill), pa = {kPrefill};
  dyt_backward(in_place.data(), pa.data(), pg.data(), pb.data(), in_place.data(), s.x.data(),
               alpha.data(), s.g.data(), kN, kD);
  EXPECT_EQ(in_place, dx);
  expect_gradient("dx", s.x, dx, loss, s.rng, 0.0f);
  expect_gradient("dalpha", alpha, dalpha, loss, s.rng);
  expect_gradient("dweight", s.g, dg, loss, s.rng);
  expect_gradient("dbias", s.b, db, loss, s.rng);
}

// Parameter-gradient reductions are split into chunks fixed by N, so 1 and 2 threads must agree
// bit for bit (and so must din, which is per row).
TEST(LayerNorm, BackwardIndependentOfThreadCount) {
  Data s;
  std::vector<float> mean(kN), rstd(kN);
  layernorm_forward(s.out.data(), mean.data(), rstd.data(), s.x.data(), s.g.data(), s.b.data(), kN,
                    kD, kEps);
  const float alpha = 0.7f;
  std::vector<std::vector<float>> results[2];
  const int saved = omp_get_max_threads();
  for (int t = 0; t < 2; ++t) {
    omp_set_num_threads(t + 1);
    std::vector<float> dx(kN * kD, 0.0f), dg(kD, 0.0f), db(kD, 0.0f), rdx(kN * kD, 0.0f),
        rdg(kD, 0.0f), ydx(kN * kD, 0.0f), ydg(kD, 0.0f), ydb(kD, 0.0f), yda(1, 0.0f);
    layernorm_backward(dx.data(), dg.data(), db.data(), s.w.data(), s.x.data(), s.g.data(),
                       mean.data(), rstd.data(), kN, kD);
    rmsnorm_backward(rdx.data(), rdg.data(), s.w.data(), s.x.data(), s.g.data(), rstd.data(), kN,
                     kD);
    dyt_backward(ydx.data(), yda.data(), ydg.data(), ydb.data(), s.w.data(), s.x.data(), &alpha,
                 s.g.data(), kN, kD);
    results[t] = {dx, dg, db, rdx, rdg, ydx, ydg, ydb, yda};
  }
  omp_set_num_threads(saved);
  ASSERT_EQ(results[0].size(), results[1].size());
  for (size_t k = 0; k < results[0].size(); ++k) EXPECT_EQ(results[0][k], results[1][k]) << k;
}

}  // namespace
}  // namespace normlab
