// matmul / linear_forward / linear_backward against double-precision loops and finite
// differences. Shapes: a small odd one (N=7, in=5, out=3) and one large enough for oneDNN's
// blocked kernels (N=64, in=96, out=80).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>
#include <vector>

#include "core/rng.hpp"
#include "finite_difference.hpp"
#include "kernels/linear.hpp"

namespace normlab {
namespace {

// Row-major reference C = alpha op(A) op(B) + beta C in double.
void matmul_ref(std::vector<float>& C, const std::vector<float>& A, const std::vector<float>& B,
                int M, int N, int K, bool ta, bool tb, float alpha, float beta) {
  for (int i = 0; i < M; ++i) {
    for (int j = 0; j < N; ++j) {
      double s = 0.0;
      for (int p = 0; p < K; ++p) {
        const double a = ta ? A[static_cast<size_t>(p) * M + i] : A[static_cast<size_t>(i) * K + p];
        const double b = tb ? B[static_cast<size_t>(j) * K + p] : B[static_cast<size_t>(p) * N + j];
        s += a * b;
      }
      float& c = C[static_cast<size_t>(i) * N + j];
      c = static_cast<float>(alpha * s + (beta == 0.0f ? 0.0 : beta * static_cast<double>(c)));
    }
  }
}

struct Shape {
  int n, in, out;
};
const Shape kShapes[] = {{7, 5, 3}, {64, 96, 80}};

TEST(Matmul, MatchesReferenceForAllTransposesAndBeta) {
  Rng rng(1);
  for (const Shape& s : kShapes) {
    const int M = s.n, N = s.out, K = s.in;
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        for (auto [alpha, beta] : {std::pair{1.0f, 0.0f}, std::pair{1.0f, 1.0f},
                                   std::pair{0.5f, 0.25f}, std::pair{-2.0f, 0.0f}}) {
          auto A = random_vec(static_cast<size_t>(M) * K, rng);
          auto B = random_vec(static_cast<size_t>(K) * N, rng);
          auto C = random_vec(static_cast<size_t>(M) * N, rng);
          auto Cref = C;
          matmul(C.data(), A.data(), B.data(), M, N, K, ta, tb, alpha, beta);
          matmul_ref(Cref, A, B, M, N, K, ta, tb, alpha, beta);
          // Float accumulation over K <= 96 unit-normal products: errors ~1e-5 * sqrt(K).
          for (size_t i = 0; i < C.size(); ++i) {
            ASSERT_NEAR(C[i], Cref[i], 1e-4 * (1.0 + std::fabs(Cref[i])))
                << "M=" << M << " N=" << N << " K=" << K << " ta=" << ta << " tb=" << tb
                << " alpha=" << alpha << " beta=" << beta << " i=" << i;
          }
        }
      }
    }
  }
}

TEST(Matmul, BetaZeroIgnoresGarbageInC) {
  Rng rng(2);
  auto A = random_vec(4 * 3, rng), B = random_vec(3 * 2, rng);
  std::vector<float> C(4 * 2, NAN), Cref(4 * 2, 0.0f);
  matmul(C.data(), A.data(), B.data(), 4, 2, 3, false, false, 1.0f, 0.0f);
  matmul_ref(Cref, A, B, 4, 2, 3, false, false, 1.0f, 0.0f);
  for (size_t i = 0; i < C.size(); ++i) EXPECT_NEAR(C[i], Cref[i], 1e-5);
}

TEST(Linear, ForwardMatchesReference) {
  Rng rng(3);
  for (const Shape& s : kShapes) {
    for (bool with_bias : {false, true}) {
      auto x = random_vec(static_cast<size_t>(s.n) * s.in, rng);
      auto W = random_vec(static_cast<size_t>(s.out) * s.in, rng);
      auto b = random_vec(s.out, rng);
      std::vector<float> y(static_cast<size_t>(s.n) * s.out, NAN);
      linear_forward(y.data(), x.data(), W.data(), with_bias ? b.data() : nullptr, s.n, s.in,
                     s.out);
      for (int i = 0; i < s.n; ++i) {
        for (int o = 0; o < s.out; ++o) {
          double ref = with_bias ? b[o] : 0.0;
          for (int c = 0; c < s.in; ++c) {
            ref += static_cast<double>(x[static_cast<size_t>(i) * s.in + c]) *
                   W[static_cast<size_t>(o) * s.in + c];
          }
          ASSERT_NEAR(y[static_cast<size_t>(i) * s.out + o], ref, 1e-4 * (1.0 + std::fabs(ref)))
              << "N=" << s.n << " bias=" << with_bias << " i=" << i << " o=" << o;
        }
      }
    }
  }
}

// L(x, W, b) = sum(w * linear_forward(x, W, b)) in double; backward with dout = w gives
// dL/dx, dL/dW, dL/db. L is linear in each argument, so the central difference is exact up to
// float rounding of the forward (~1e-6 relative per output, divided by 2h = 2e-2): a relative
// tolerance of 1e-3 is robust, while a wrong sign, a factor of 2 or a transposed index give O(1).
TEST(Linear, BackwardMatchesFiniteDifferencesAndAccumulates) {
  Rng rng(4);
  const double h = 1e-2;
  for (const Shape& s : kShapes) {
    auto x = random_vec(static_cast<size_t>(s.n) * s.in, rng);
    auto W = random_vec(static_cast<size_t>(s.out) * s.in, rng);
    auto b = random_vec(s.out, rng);
    const auto w = random_vec(static_cast<size_t>(s.n) * s.out, rng);
    std::vector<float> y(w.size());
    auto loss = [&]() {
      linear_forward(y.data(), x.data(), W.data(), b.data(), s.n, s.in, s.out);
      return dot(w, y);
    };

    std::vector<float> dx(x.size(), 0.0f), dW(W.size(), 0.0f), db(b.size(), 0.0f);
    linear_backward(dx.data(), dW.data(), db.data(), w.data(), x.data(), W.data(), s.n, s.in,
                    s.out);

    struct Param {
      const char* name;
      std::vector<float>* value;
      const std::vector<float>* grad;
    };
    for (const Param& p : {Param{"x", &x, &dx}, Param{"W", &W, &dW}, Param{"b", &b, &db}}) {
      for (int trial = 0; trial < 3; ++trial) {
        const auto u = random_vec(p.value->size(), rng);
        const double analytic = dot(*p.grad, u);
        const double numeric = directional_fd(*p.value, u, h, loss);
        EXPECT_NEAR(analytic, numeric, 1e-3 * std::max(1.0, std::fabs(numeric)))
            << p.name << " N=" << s.n << " trial " << trial;
      }
    }

    // Accumulation: starting from a known fill, the result is fill + the gradient from zero.
    const float fill = 0.75f;
    std::vector<float> ax(x.size(), fill), aW(W.size(), fill), ab(b.size(), fill);
    linear_backward(ax.data(), aW.data(), ab.data(), w.data(), x.data(), W.data(), s.n, s.in,
                    s.out);
    for (size_t i = 0; i < dx.size(); ++i) ASSERT_NEAR(ax[i] - fill, dx[i], 1e-4) << "dx " << i;
    for (size_t i = 0; i < dW.size(); ++i) ASSERT_NEAR(aW[i] - fill, dW[i], 1e-4) << "dW " << i;
    for (size_t i = 0; i < db.size(); ++i) ASSERT_NEAR(ab[i] - fill, db[i], 1e-4) << "db " << i;
  }
}

TEST(Linear, BackwardSkipsNullGradients) {
  Rng rng(5);
  const int n = 7, in = 5, out = 3;
  auto x = random_vec(n * in, rng), W = random_vec(out * in, rng), dy = random_vec(n * out, rng);
  std::vector<float> dW_all(out * in, 0.0f), dW_only(out * in, 0.0f), dx(n * in, 0.0f),
      db(out, 0.0f);
  linear_backward(dx.data(), dW_all.data(), db.data(), dy.data(), x.data(), W.data(), n, in, out);
  linear_backward(nullptr, dW_only.data(), nullptr, dy.data(), x.data(), W.data(), n, in, out);
  EXPECT_EQ(dW_all, dW_only);
}

}  // namespace
}  // namespace normlab
