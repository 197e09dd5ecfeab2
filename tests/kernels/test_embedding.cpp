// Token + position embedding and the sinusoidal table. The embedding is linear in both tables,
// so the finite differences of L = sum(w * out) are exact up to float rounding; repeated tokens
// exercise the scatter-add, and gradients pre-filled with kPrefill check accumulation.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/rng.hpp"
#include "finite_difference.hpp"
#include "kernels/embedding.hpp"

namespace normlab {
namespace {

constexpr int kB = 3, kT = 5, kD = 40, kV = 7;
constexpr float kPrefill = 0.25f;
// L is linear in the tables, so the difference quotient has no truncation error and a unit step
// is exact but for float rounding of out (~1e-5 absolute in L, ~5e-6 in the quotient). Random
// directions can make the derivative small by cancellation, so the tolerance is 1e-4 relative
// with an absolute floor of 1e-4; a wrong scale or a missed repeated token is off by O(1).
constexpr double kStep = 1.0;
constexpr double kRelTol = 1e-4;

void expect_gradient(const char* what, std::vector<float>& x, const std::vector<float>& grad,
                     const std::function<double()>& loss, Rng& rng) {
  for (int rep = 0; rep < 2; ++rep) {
    const std::vector<float> u = random_vec(x.size(), rng);
    double analytic = 0.0;
    for (size_t i = 0; i < x.size(); ++i) {
      analytic += (static_cast<double>(grad[i]) - kPrefill) * u[i];
    }
    const double fd = directional_fd(x, u, kStep, loss);
    EXPECT_NEAR(analytic, fd, kRelTol * std::max(1.0, std::abs(fd))) << what << " " << rep;
  }
}

struct Data {
  Rng rng{77};
  std::vector<int32_t> tokens;
  std::vector<float> tok = random_vec(kV * kD, rng);
  std::vector<float> pos = random_vec(kT * kD, rng);
  std::vector<float> w = random_vec(kB * kT * kD, rng);
  std::vector<float> out = std::vector<float>(kB * kT * kD);
  const float scale = std::sqrt(static_cast<float>(kD));
  Data() {
    for (int i = 0; i < kB * kT; ++i) tokens.push_back(static_cast<int32_t>((i * 5 + 2) % kV));
    tokens[4] = tokens[0];  // repeats within a sequence as well as across the batch
  }
};

TEST(Embedding, ForwardIsScaledTokenPlusPosition) {
  Data s;
  embedding_forward(s.out.data(), s.tokens.data(), s.tok.data(), s.pos.data(), kB, kT, kD, s.scale);
  for (int b = 0; b < kB; ++b) {
    for (int t = 0; t < kT; ++t) {
      for (int j = 0; j < kD; ++j) {
        const double y =
            static_cast<double>(s.scale) * s.tok[s.tokens[b * kT + t] * kD + j] + s.pos[t * kD + j];
        EXPECT_NEAR(s.out[(b * kT + t) * kD + j], y, 1e-6 * (1.0 + std::abs(y)));
      }
    }
  }
}

TEST(Embedding, BackwardMatchesFiniteDifferences) {
  Data s;
  auto loss = [&] {
    embedding_forward(s.out.data(), s.tokens.data(), s.tok.data(), s.pos.data(), kB, kT, kD,
                      s.scale);
    return dot(s.w, s.out);
  };
  std::vector<float> dtok(kV * kD, kPrefill), dpos(kT * kD, kPrefill);
  embedding_backward(dtok.data(), dpos.data(), s.w.data(), s.tokens.data(), kB, kT, kD, s.scale);
  expect_gradient("dtok_emb", s.tok, dtok, loss, s.rng);
  expect_gradient("dpos", s.pos, dpos, loss, s.rng);
  // Rows of tokens that never occur keep exactly the pre-filled value.
  for (int v = 0; v < kV; ++v) {
    if (std::find(s.tokens.begin(), s.tokens.end(), v) != s.tokens.end()) continue;
    for (int j = 0; j < kD; ++j) EXPECT_EQ(dtok[v * kD + j], kPrefill);
  }
}

TEST(Embedding, BackwardWithoutPositionGradientAndThreadIndependent) {
  Data s;
  std::vector<float> dtok[2];
  const int saved = omp_get_max_threads();
  for (int t = 0; t < 2; ++t) {
    omp_set_num_threads(t + 1);
    dtok[t].assign(kV * kD, kPrefill);
    embedding_backward(dtok[t].data(), nullptr, s.w.data(), s.tokens.data(), kB, kT, kD, s.scale);
  }
  omp_set_num_threads(saved);
  EXPECT_EQ(dtok[0], dtok[1]);
}

TEST(Sinusoid, MatchesFairseqFormula) {
  constexpr int T = 12, d = 8, half = d / 2;
  std::vector<float> table(T * d);
  sinusoidal_positions(table.data(), T, d);
  // Hand values: w_0 = 1, so table[1, 0] = sin(1) and table[1, half] = cos(1).
  EXPECT_NEAR(table[1 * d + 0], 0.8414709848078965, 1e-6);
  EXPECT_NEAR(table[1 * d + half], 0.5403023058681398, 1e-6);
  // w_1 = 10000^(-1/3): sin(3 w_1);  w_2 = 10000^(-2/3): cos(7 w_2).
  EXPECT_NEAR(table[3 * d + 1], 0.13879810108005053, 1e-6);
  EXPECT_NEAR(table[7 * d + half + 2], 0.9998862832288925, 1e-6);
  for (int t = 0; t < T; ++t) {
    for (int i = 0; i < half; ++i) {
      const double wi = std::pow(10000.0, -static_cast<double>(i) / (half - 1));
      EXPECT_NEAR(table[t * d + i], std::sin(t * wi), 1e-6) << t << " " << i;
      EXPECT_NEAR(table[t * d + half + i], std::cos(t * wi), 1e-6) << t << " " << i;
    }
  }
}

TEST(Sinusoid, OddWidthZeroPadsLastColumn) {
  constexpr int T = 4, d = 7;
  std::vector<float> table(T * d, 5.0f);
  sinusoidal_positions(table.data(), T, d);
  for (int t = 0; t < T; ++t) {
    EXPECT_EQ(table[t * d + d - 1], 0.0f);
    EXPECT_NEAR(table[t * d + 3], std::cos(static_cast<double>(t)), 1e-6);  // cos(t * w_0)
  }
}

}  // namespace
}  // namespace normlab
