// Causal attention against a double-precision reference, causality, finite differences on a
// fused qkv buffer (stride 3d), accumulation semantics and thread-count independence.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "core/rng.hpp"
#include "finite_difference.hpp"
#include "kernels/attention.hpp"

namespace normlab {
namespace {

struct Dims {
  int B, T, d, H;
};

// Fused qkv [B, T, 3d] (q = +0, k = +d, v = +2d, stride 3d) as the model uses it.
struct Fused {
  Dims s;
  std::vector<float> qkv, out, att;
  explicit Fused(Dims dims, Rng& rng)
      : s(dims),
        qkv(random_vec(static_cast<size_t>(dims.B) * dims.T * 3 * dims.d, rng)),
        out(static_cast<size_t>(dims.B) * dims.T * dims.d),
        att(static_cast<size_t>(dims.B) * dims.H * dims.T * dims.T) {}
  void forward() {
    attention_forward(out.data(), att.data(), qkv.data(), qkv.data() + s.d, qkv.data() + 2 * s.d,
                      3 * s.d, s.B, s.T, s.d, s.H);
  }
  void backward(std::vector<float>& dqkv, const std::vector<float>& dout) const {
    attention_backward(dqkv.data(), dqkv.data() + s.d, dqkv.data() + 2 * s.d, dout.data(),
                       qkv.data(), qkv.data() + s.d, qkv.data() + 2 * s.d, att.data(), 3 * s.d, s.B,
                       s.T, s.d, s.H);
  }
};

const Dims kDims[] = {{2, 5, 8, 2}, {1, 6, 6, 3}};

TEST(Attention, ForwardMatchesReference) {
  Rng rng(11);
  for (const Dims& s : kDims) {
    // Separate q, k, v buffers at stride d, then the fused layout at stride 3d.
    for (bool fused : {false, true}) {
      const int stride = fused ? 3 * s.d : s.d;
      const auto buf = random_vec(static_cast<size_t>(s.B) * s.T * stride * (fused ? 1 : 3), rng);
      const size_t plane = static_cast<size_t>(s.B) * s.T * s.d;
      const float* q = buf.data();
      const float* k = fused ? buf.data() + s.d : buf.data() + plane;
      const float* v = fused ? buf.data() + 2 * s.d : buf.data() + 2 * plane;
      std::vector<float> out(static_cast<size_t>(s.B) * s.T * s.d, NAN);
      std::vector<float> att(static_cast<size_t>(s.B) * s.H * s.T * s.T, NAN);
      attention_forward(out.data(), att.data(), q, k, v, stride, s.B, s.T, s.d, s.H);

      const int hd = s.d / s.H;
      for (int b = 0; b < s.B; ++b) {
        for (int h = 0; h < s.H; ++h) {
          for (int i = 0; i < s.T; ++i) {
            auto at = [&](const float* m, int t, int c) {
              return static_cast<double>(
                  m[(static_cast<size_t>(b) * s.T + t) * stride + h * hd + c]);
            };
            std::vector<double> p(s.T, 0.0);
            double mx = -INFINITY, sum = 0.0;
            for (int j = 0; j <= i; ++j) {
              for (int c = 0; c < hd; ++c) p[j] += at(q, i, c) * at(k, j, c);
              p[j] /= std::sqrt(static_cast<double>(hd));
              mx = std::max(mx, p[j]);
            }
            for (int j = 0; j <= i; ++j) sum += (p[j] = std::exp(p[j] - mx));
            for (int j = 0; j <= i; ++j) p[j] /= sum;
            const float* att_row =
                att.data() + ((static_cast<size_t>(b) * s.H + h) * s.T + i) * s.T;
            for (int j = 0; j < s.T; ++j) {
              ASSERT_NEAR(att_row[j], p[j], 1e-5) << "b=" << b << " h=" << h << " i=" << i;
              if (j > i) {
                ASSERT_EQ(att_row[j], 0.0f);
              }
            }
            for (int c = 0; c < hd; ++c) {
              double o = 0.0;
              for (int j = 0; j <= i; ++j) o += p[j] * at(v, j, c);
              ASSERT_NEAR(out[(static_cast<size_t>(b) * s.T + i) * s.d + h * hd + c], o, 1e-5)
                  << "fused=" << fused << " b=" << b << " h=" << h << " i=" << i << " c=" << c;
            }
          }
        }
      }
    }
  }
}

TEST(Attention, FutureKeysAndValuesDoNotChangeEarlierOutputs) {
  Rng rng(12);
  const Dims s{2, 5, 8, 2};
  Fused f(s, rng);
  f.forward();
  const auto before = f.out;
  const int t0 = 2;  // perturb k and v (all heads) at position t0 of batch 0
  for (int c = s.d; c < 3 * s.d; ++c) f.qkv[static_cast<size_t>(t0) * 3 * s.d + c] += 1.5f;
  f.forward();
  for (int b = 0; b < s.B; ++b) {
    for (int t = 0; t < s.T; ++t) {
      bool changed = false;
      for (int c = 0; c < s.d; ++c) {
        const size_t i = (static_cast<size_t>(b) * s.T + t) * s.d + c;
        changed |= f.out[i] != before[i];
      }
      const bool may_change = b == 0 && t >= t0;
      EXPECT_EQ(changed, may_change) << "b=" << b << " t=" << t;
    }
  }
}

// L(qkv) = sum(w * out) in double, dout = w. Central differences with h = 1e-2: truncation error
// ~h^2 L''' / 6 ~ 1e-5 and float rounding of L (~1e-6) / 2h ~ 1e-4, against directional
// derivatives of order 1; tolerance 1e-2 relative (floor 0.1). A wrong sign, a missing 1/sqrt(hd)
// (factor 2 here, hd = 4) or a transposed P in dV all give errors of order 1.
TEST(Attention, BackwardMatchesFiniteDifferencesAndAccumulates) {
  Rng rng(13);
  const double h = 1e-2;
  for (const Dims& s : kDims) {
    Fused f(s, rng);
    const auto w = random_vec(f.out.size(), rng);
    auto loss = [&]() {
      f.forward();
      return dot(w, f.out);
    };
    loss();
    std::vector<float> grad(f.qkv.size(), 0.0f);
    f.backward(grad, w);

    const char* names[] = {"q", "k", "v"};
    for (int part = 0; part < 3; ++part) {
      for (int trial = 0; trial < 3; ++trial) {
        // Direction supported on the q, k or v columns only.
        auto u = random_vec(f.qkv.size(), rng);
        for (size_t i = 0; i < u.size(); ++i) {
          if (static_cast<int>(i % (3 * s.d)) / s.d != part) u[i] = 0.0f;
        }
        const double analytic = dot(grad, u);
        const double numeric = directional_fd(f.qkv, u, h, loss);
        EXPECT_NEAR(analytic, numeric, 1e-2 * std::max(0.1, std::fabs(numeric)))
            << names[part] << " H=" << s.H << " trial " << trial;
      }
    }

    // Accumulation: from a known fill, the result is fill + the gradient from zero.
    loss();
    const float fill = -0.5f;
    std::vector<float> acc(f.qkv.size(), fill);
    f.backward(acc, w);
    for (size_t i = 0; i < acc.size(); ++i) ASSERT_NEAR(acc[i] - fill, grad[i], 1e-5) << i;
  }
}

TEST(Attention, ResultsDoNotDependOnThreadCount) {
  Rng rng(14);
  const Dims s{2, 7, 8, 2};
  Fused f(s, rng);
  const auto w = random_vec(f.out.size(), rng);
  const int saved = omp_get_max_threads();
  std::vector<float> out[2], grad[2];
  for (int n : {1, 2}) {
    omp_set_num_threads(n);
    f.forward();
    out[n - 1] = f.out;
    grad[n - 1].assign(f.qkv.size(), 0.0f);
    f.backward(grad[n - 1], w);
  }
  omp_set_num_threads(saved);
  EXPECT_EQ(out[0], out[1]);
  EXPECT_EQ(grad[0], grad[1]);
}

}  // namespace
}  // namespace normlab
