// nGPT's hypersphere kernels (kernels/sphere.hpp): unit rows and columns against their
// definition, the backwards of Norm and of the sphere step against central finite differences
// of L = sum(w * forward(...)) along random directions, for every input and the eigen learning
// rate theta. theta has entries of both signs (a = |theta c|) and dtheta is pre-filled, so that a
// kernel which overwrites instead of accumulating fails.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "core/rng.hpp"
#include "finite_difference.hpp"
#include "kernels/sphere.hpp"

namespace normlab {
namespace {

constexpr int kRows = 37;
constexpr int kD = 29;
constexpr float kPrefill = 0.25f;
constexpr double kStep = 1e-3;
constexpr double kRelTol = 2e-3;

void expect_directional(const char* what, std::vector<float>& x, const std::vector<float>& grad,
                        const std::function<double()>& loss, Rng& rng, float prefill = 0.0f) {
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

TEST(UnitRows, ForwardHasUnitRowsAlongTheInput) {
  Rng rng(1);
  std::vector<float> x = random_vec(kRows * kD, rng, 2.0, 0.3), out(x.size()), rnorm(kRows);
  unit_rows_forward(out.data(), rnorm.data(), x.data(), kRows, kD);
  for (int r = 0; r < kRows; ++r) {
    double n2 = 0, xx = 0;
    for (int j = 0; j < kD; ++j)
      n2 += out[r * kD + j] * out[r * kD + j], xx += x[r * kD + j] * x[r * kD + j];
    EXPECT_NEAR(n2, 1.0, 1e-5);
    EXPECT_NEAR(rnorm[r], 1.0 / std::sqrt(xx), 1e-5 / std::sqrt(xx));
    EXPECT_NEAR(out[r * kD + 3], x[r * kD + 3] / std::sqrt(xx), 1e-6);
  }
}

TEST(UnitRows, BackwardMatchesFiniteDifferences) {
  Rng rng(2);
  std::vector<float> x = random_vec(kRows * kD, rng, 1.0, 0.5), w = random_vec(x.size(), rng);
  std::vector<float> out(x.size()), rnorm(kRows), dx(x.size());
  auto loss = [&]() {
    std::vector<float> o(x.size());
    unit_rows_forward(o.data(), nullptr, x.data(), kRows, kD);
    return dot(o, w);
  };
  unit_rows_forward(out.data(), rnorm.data(), x.data(), kRows, kD);
  unit_rows_backward(dx.data(), w.data(), out.data(), rnorm.data(), kRows, kD);
  expect_directional("dx", x, dx, loss, rng);
  std::vector<float> in_place = w;  // din = dout
  unit_rows_backward(in_place.data(), in_place.data(), out.data(), rnorm.data(), kRows, kD);
  EXPECT_EQ(in_place, dx);
}

TEST(UnitMatrix, RowsOrColumnsBecomeUnit) {
  Rng rng(3);
  const int r = 7, c = 5;
  for (bool rows : {true, false}) {
    std::vector<float> m = random_vec(r * c, rng, 3.0);
    const std::vector<float> before = m;
    unit_matrix(m.data(), r, c, rows);
    for (int k = 0; k < (rows ? r : c); ++k) {
      double n2 = 0, b2 = 0;
      for (int t = 0; t < (rows ? c : r); ++t) {
        const int i = rows ? k * c + t : t * c + k;
        n2 += m[i] * m[i], b2 += before[i] * before[i];
      }
      EXPECT_NEAR(n2, 1.0, 1e-5) << (rows ? "row " : "column ") << k;
      const int i0 = rows ? k * c : k;  // direction unchanged
      EXPECT_NEAR(m[i0], before[i0] / std::sqrt(b2), 1e-6);
    }
  }
}

TEST(SphereStep, ForwardIsTheNormalisedStep) {
  Rng rng(4);
  std::vector<float> x = random_vec(kRows * kD, rng, 2.0), y = random_vec(x.size(), rng, 0.1);
  std::vector<float> theta = random_vec(kD, rng, 0.5), out(x.size()), xn(x.size()), yn(x.size());
  std::vector<float> rx(kRows), ry(kRows), rs(kRows);
  const float c = 0.3f;
  sphere_step_forward(out.data(), xn.data(), yn.data(), rx.data(), ry.data(), rs.data(), x.data(),
                      y.data(), theta.data(), c, kRows, kD);
  for (int r = 0; r < kRows; ++r) {
    double nx = 0, ny = 0;
    for (int j = 0; j < kD; ++j)
      nx += x[r * kD + j] * x[r * kD + j], ny += y[r * kD + j] * y[r * kD + j];
    std::vector<double> s(kD);
    double ns = 0;
    for (int j = 0; j < kD; ++j) {
      const double a = std::abs(theta[j] * c);
      s[j] = x[r * kD + j] / std::sqrt(nx) +
             a * (y[r * kD + j] / std::sqrt(ny) - x[r * kD + j] / std::sqrt(nx));
      ns += s[j] * s[j];
    }
    for (int j = 0; j < kD; ++j) EXPECT_NEAR(out[r * kD + j], s[j] / std::sqrt(ns), 1e-5);
  }
}

TEST(SphereStep, BackwardMatchesFiniteDifferences) {
  Rng rng(5);
  std::vector<float> x = random_vec(kRows * kD, rng, 1.5, 0.2), y = random_vec(x.size(), rng, 0.2);
  std::vector<float> theta = random_vec(kD, rng, 1.0), w = random_vec(x.size(), rng);
  const float c = 0.4f;
  std::vector<float> out(x.size()), xn(x.size()), yn(x.size()), rx(kRows), ry(kRows), rs(kRows);
  auto loss = [&]() {
    std::vector<float> o(x.size()), a(x.size()), b(x.size()), s1(kRows), s2(kRows), s3(kRows);
    sphere_step_forward(o.data(), a.data(), b.data(), s1.data(), s2.data(), s3.data(), x.data(),
                        y.data(), theta.data(), c, kRows, kD);
    return dot(o, w);
  };
  sphere_step_forward(out.data(), xn.data(), yn.data(), rx.data(), ry.data(), rs.data(), x.data(),
                      y.data(), theta.data(), c, kRows, kD);
  std::vector<float> dx(x.size()), dy(x.size()), dtheta(kD, kPrefill);
  sphere_step_backward(dx.data(), dy.data(), dtheta.data(), w.data(), out.data(), xn.data(),
                       yn.data(), rx.data(), ry.data(), rs.data(), theta.data(), c, kRows, kD);
  expect_directional("dx", x, dx, loss, rng);
  expect_directional("dy", y, dy, loss, rng);
  expect_directional("dtheta", theta, dtheta, loss, rng, kPrefill);
}

TEST(ColumnProducts, AccumulatesScaledSumsOverStridedRows) {
  Rng rng(6);
  const int rows = 9, width = 70, sa = 75, sb = 71;
  std::vector<float> a = random_vec(rows * sa, rng), b = random_vec(rows * sb, rng);
  std::vector<float> acc(width, kPrefill);
  accumulate_column_products(acc.data(), a.data(), sa, b.data(), sb, rows, width, 2.0f);
  for (int j = 0; j < width; ++j) {
    double s = 0;
    for (int r = 0; r < rows; ++r) s += static_cast<double>(a[r * sa + j]) * b[r * sb + j];
    EXPECT_NEAR(acc[j], kPrefill + 2.0 * s, 1e-5 * (1 + std::abs(s)));
  }
}

}  // namespace
}  // namespace normlab
