// matmul / linear_forward / linear_backward against double-precision loops and finite
// differences. Shapes: a small odd one (N=7, in=5, out=3) and one large enough for oneDNN's
// blocked kernels (N=64, in=96, out=80). The bf16 tests at the end run on every CPU: where bf16 is
// not native the kernels emulate it, with the same numerics.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <vector>

#include "core/rng.hpp"
#include "finite_difference.hpp"
#include "kernels/linear.hpp"
#include "kernels/precision.hpp"

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

// A transposed A whose leading dimension M is a multiple of 512 takes a different route on CPUs
// below AVX-512 (transposed first, linear.cpp); dW of fc1 and of the tied head have this shape.
TEST(Matmul, TransposedAWithPowerOfTwoLeadingDimension) {
  Rng rng(9);
  const int M = 512, N = 24, K = 40;
  for (Precision p : {Precision::fp32, Precision::bf16}) {
    ScopedMatmulPrecision scope(p);
    for (bool tb : {false, true}) {
      for (float beta : {0.0f, 1.0f}) {
        auto A = random_vec(static_cast<size_t>(K) * M, rng);
        auto B = random_vec(static_cast<size_t>(K) * N, rng);
        auto C = random_vec(static_cast<size_t>(M) * N, rng);
        auto Cref = C;
        matmul(C.data(), A.data(), B.data(), M, N, K, true, tb, 1.0f, beta);
        const bool bf16 = p == Precision::bf16;
        std::vector<float> Ar = A, Br = B;
        for (auto* v : {&Ar, &Br})
          for (float& x : *v) x = bf16 ? bf16_to_float(bf16_bits(x)) : x;
        matmul_ref(Cref, Ar, Br, M, N, K, true, tb, 1.0f, beta);
        for (size_t i = 0; i < C.size(); ++i) {
          ASSERT_NEAR(C[i], Cref[i], 1e-4 * (1.0 + std::fabs(Cref[i])))
              << precision_name(p) << " tb=" << tb << " beta=" << beta << " i=" << i;
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

    // Starting from a known fill: dx is overwritten, dW and db accumulate (fill + the gradient).
    const float fill = 0.75f;
    std::vector<float> ax(x.size(), fill), aW(W.size(), fill), ab(b.size(), fill);
    linear_backward(ax.data(), aW.data(), ab.data(), w.data(), x.data(), W.data(), s.n, s.in,
                    s.out);
    for (size_t i = 0; i < dx.size(); ++i) ASSERT_NEAR(ax[i], dx[i], 1e-4) << "dx " << i;
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

// ---- bf16 mode (kernels/precision.hpp) ----

std::vector<float> bf16_rounded(const std::vector<float>& v) {
  std::vector<float> r(v.size());
  for (size_t i = 0; i < v.size(); ++i) r[i] = bf16_to_float(bf16_bits(v[i]));
  return r;
}

// Largest |a - b| relative to the largest |b|.
double max_rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0.0, scale = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::fabs(static_cast<double>(a[i]) - b[i]));
    scale = std::max(scale, std::fabs(static_cast<double>(b[i])));
  }
  return diff / scale;
}

TEST(Bf16, RoundsToNearestEven) {
  EXPECT_EQ(bf16_bits(1.0f), 0x3F80);
  EXPECT_EQ(bf16_bits(-2.0f), 0xC000);
  // bf16 keeps 7 fraction bits: 1 + 2^-8 is half-way between 1 and 1 + 2^-7 and goes to the even
  // one (1); 1 + 3 * 2^-8 is half-way between 1 + 2^-7 and 1 + 2^-6 and goes to 1 + 2^-6.
  EXPECT_EQ(bf16_to_float(bf16_bits(1.0f + 0x1p-8f)), 1.0f);
  EXPECT_EQ(bf16_to_float(bf16_bits(1.0f + 3 * 0x1p-8f)), 1.0f + 0x1p-6f);
  EXPECT_EQ(bf16_to_float(bf16_bits(1.0f + 0x1p-8f + 0x1p-20f)), 1.0f + 0x1p-7f);  // above half
  EXPECT_EQ(bf16_to_float(bf16_bits(3.0f)), 3.0f);
  EXPECT_EQ(bf16_bits(INFINITY), 0x7F80);
  EXPECT_EQ(bf16_bits(3.4e38f), 0x7F80);  // beyond bf16's largest finite value: rounds to inf
  EXPECT_TRUE(std::isnan(bf16_to_float(bf16_bits(NAN))));
  EXPECT_TRUE(std::isnan(bf16_to_float(bf16_bits(std::bit_cast<float>(0x7FFFFFFFu)))));
}

TEST(Bf16, BulkConversionsMatchTheScalarRounding) {
  Rng rng(6);
  const size_t n = 100003;  // above the parallel threshold, odd
  auto x = random_vec(n, rng, 3.0);
  std::vector<uint16_t> bits(n);
  convert_to_bf16(bits.data(), x.data(), n);
  std::vector<float> rounded(n);
  round_to_bf16(rounded.data(), x.data(), n);
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(bits[i], bf16_bits(x[i])) << i;
    ASSERT_EQ(rounded[i], bf16_to_float(bits[i])) << i;
  }
  round_to_bf16(x.data(), x.data(), n);  // in place
  EXPECT_EQ(x, rounded);
}

TEST(Bf16, ScopedPrecisionRestoresThePreviousOne) {
  ASSERT_EQ(matmul_precision(), Precision::fp32);  // the process default
  {
    ScopedMatmulPrecision bf16(Precision::bf16);
    EXPECT_EQ(matmul_precision(), Precision::bf16);
  }
  EXPECT_EQ(matmul_precision(), Precision::fp32);
}

TEST(Bf16, ResolvesTheOptionOnThisCpu) {
  const bool native = native_bf16_matmul();
  PrecisionChoice fp32 = resolve_precision("fp32");
  EXPECT_EQ(fp32.precision, Precision::fp32);
  EXPECT_TRUE(fp32.note.empty());
  PrecisionChoice automatic = resolve_precision("auto");
  EXPECT_EQ(automatic.precision, native ? Precision::bf16 : Precision::fp32);
  EXPECT_FALSE(automatic.emulated);
  EXPECT_EQ(automatic.note.empty(), native);  // the fallback says so
  PrecisionChoice bf16 = resolve_precision("bf16");
  EXPECT_EQ(bf16.precision, Precision::bf16);
  EXPECT_EQ(bf16.emulated, !native);
  EXPECT_THROW(resolve_precision("fp16"), std::invalid_argument);
  std::printf("oneDNN ISA %s, native bf16 matmul: %s\n", onednn_cpu_isa().c_str(),
              native ? "yes" : "no");
}

// In bf16 mode a product equals the double-precision product of the bf16-rounded inputs up to f32
// accumulation (a product of two bf16 numbers is exact in f32), and differs from the product of
// the unrounded inputs by bf16's relative precision 2^-9 ~ 2e-3, far above f32 round-off: the
// test fails if bf16 is not applied, and if it is applied to the wrong operand or the output.
TEST(Bf16, MatmulIsTheProductOfRoundedInputsForAllTransposesAndBeta) {
  ScopedMatmulPrecision bf16(Precision::bf16);
  Rng rng(7);
  for (const Shape& s : kShapes) {
    const int M = s.n, N = s.out, K = s.in;
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        for (auto [alpha, beta] :
             {std::pair{1.0f, 0.0f}, std::pair{1.0f, 1.0f}, std::pair{0.5f, 0.25f}}) {
          auto A = random_vec(static_cast<size_t>(M) * K, rng);
          auto B = random_vec(static_cast<size_t>(K) * N, rng);
          auto C = random_vec(static_cast<size_t>(M) * N, rng);
          auto Cref = C, Cexact = C;
          matmul(C.data(), A.data(), B.data(), M, N, K, ta, tb, alpha, beta);
          matmul_ref(Cref, bf16_rounded(A), bf16_rounded(B), M, N, K, ta, tb, alpha, beta);
          matmul_ref(Cexact, A, B, M, N, K, ta, tb, alpha, beta);
          for (size_t i = 0; i < C.size(); ++i) {
            ASSERT_NEAR(C[i], Cref[i], 1e-4 * (1.0 + std::fabs(Cref[i])))
                << "M=" << M << " N=" << N << " K=" << K << " ta=" << ta << " tb=" << tb
                << " alpha=" << alpha << " beta=" << beta << " i=" << i;
          }
          if (K >= 64) {
            EXPECT_GT(max_rel_diff(C, Cexact), 3e-4) << "bf16 not applied?";
          }
        }
      }
    }
  }
}

// Forward and backward in bf16 against f32: within bf16 precision (relative error ~ 2^-9 per
// input, averaging over K terms), the bias gradient identical (it is an f32 sum, not a product),
// and accumulation into the gradients kept.
TEST(Bf16, LinearForwardBackwardCloseToFp32) {
  Rng rng(8);
  const int n = 64, in = 96, out = 80;
  auto x = random_vec(static_cast<size_t>(n) * in, rng);
  auto W = random_vec(static_cast<size_t>(out) * in, rng, 0.1);
  auto b = random_vec(out, rng);
  auto dy = random_vec(static_cast<size_t>(n) * out, rng);
  const float fill = 0.5f;
  struct Result {
    std::vector<float> y, dx, dW, db;
  };
  auto run = [&](Precision p) {
    ScopedMatmulPrecision scope(p);
    Result r{std::vector<float>(static_cast<size_t>(n) * out, NAN),
             std::vector<float>(x.size(), fill), std::vector<float>(W.size(), fill),
             std::vector<float>(b.size(), fill)};
    linear_forward(r.y.data(), x.data(), W.data(), b.data(), n, in, out);
    linear_backward(r.dx.data(), r.dW.data(), r.db.data(), dy.data(), x.data(), W.data(), n, in,
                    out);
    return r;
  };
  const Result f32 = run(Precision::fp32), bf = run(Precision::bf16);
  for (auto [name, a, ref] : {std::tuple{"y", &bf.y, &f32.y}, std::tuple{"dx", &bf.dx, &f32.dx},
                              std::tuple{"dW", &bf.dW, &f32.dW}}) {
    const double d = max_rel_diff(*a, *ref);
    EXPECT_LT(d, 1e-2) << name;
    EXPECT_GT(d, 1e-5) << name << ": identical to fp32, bf16 not applied?";
  }
  EXPECT_EQ(bf.db, f32.db);
  // The bf16 forward is exactly the rounded-input product plus the f32 bias.
  std::vector<float> yref(bf.y.size());
  const auto xr = bf16_rounded(x), Wr = bf16_rounded(W);
  matmul_ref(yref, xr, Wr, n, out, in, false, true, 1.0f, 0.0f);
  for (size_t i = 0; i < yref.size(); ++i)
    ASSERT_NEAR(bf.y[i], yref[i] + b[i % out], 1e-4 * (1.0 + std::fabs(yref[i]))) << i;
  // So is the backward, where dy (converted once for both products) meets rounded W and x.
  std::vector<float> dxref(x.size(), NAN), dWref(W.size(), fill);
  const auto dyr = bf16_rounded(dy);
  matmul_ref(dxref, dyr, Wr, n, in, out, false, false, 1.0f, 0.0f);
  matmul_ref(dWref, dyr, xr, out, in, n, true, false, 1.0f, 1.0f);
  for (size_t i = 0; i < dxref.size(); ++i)
    ASSERT_NEAR(bf.dx[i], dxref[i], 1e-4 * (1.0 + std::fabs(dxref[i]))) << "dx " << i;
  for (size_t i = 0; i < dWref.size(); ++i)
    ASSERT_NEAR(bf.dW[i], dWref[i], 1e-4 * (1.0 + std::fabs(dWref[i]))) << "dW " << i;
}

}  // namespace
}  // namespace normlab
