// Causal attention against a double-precision reference, causality, finite differences on a
// fused qkv buffer (stride 3d), accumulation semantics and thread-count independence; the same
// for the tiled kernel (causal, key padding, cross-attention, decoding, strided operands), plus
// entropy, rows without visible keys and agreement with the stored-probability kernel.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <stdexcept>
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

// ---- Tiled attention (AttentionDims overloads) ----
// The kernel works in blocks of 64 queries and 64 keys, so the shapes below cross block
// boundaries (T = 67..130) and cover the head widths of each product path (hd = 4, 5: scalar
// columns; 8: one 8-lane tile; 24: 16 + 8 lanes).

struct FlashCase {
  const char* name;
  int B, H, d, Tq, Tk;
  bool causal;
  std::vector<int32_t> key_len;  // empty: no padding
  bool fused;                    // q, k, v in one [B, T, 3d] buffer (Tq == Tk)
};

// All of q, k, v live in one buffer x (fused: [B, T, 3d]; else q rows at stride d + 2, then k and
// v rows side by side at stride 2d + 3). Stride gaps and padding keys hold NaN: the kernel must
// never read them, and their gradient must stay exactly zero.
struct Flash {
  FlashCase c;
  AttentionDims dims;
  size_t q_off = 0, k_off = 0, v_off = 0;
  std::vector<float> x, out, lse, ent;
  std::vector<size_t> index[3];  // positions in x of the q, k and v elements
  std::vector<size_t> masked;    // positions in x of padding keys' k and v elements

  Flash(const FlashCase& fc, Rng& rng) : c(fc) {
    dims.B = c.B;
    dims.H = c.H;
    dims.d = c.d;
    dims.Tq = c.Tq;
    dims.Tk = c.Tk;
    dims.causal = c.causal;
    dims.key_len = c.key_len.empty() ? nullptr : c.key_len.data();
    if (c.fused) {
      dims.q_stride = dims.kv_stride = 3 * c.d;
      k_off = c.d;
      v_off = 2 * c.d;
      x.assign(static_cast<size_t>(c.B) * c.Tq * 3 * c.d, NAN);
    } else {
      dims.q_stride = c.d + 2;
      dims.kv_stride = 2 * c.d + 3;
      k_off = static_cast<size_t>(c.B) * c.Tq * dims.q_stride;
      v_off = k_off + c.d;
      x.assign(k_off + static_cast<size_t>(c.B) * c.Tk * dims.kv_stride, NAN);
    }
    const size_t off[3] = {q_off, k_off, v_off};
    for (int part = 0; part < 3; ++part) {
      const int T = part == 0 ? c.Tq : c.Tk;
      const int stride = part == 0 ? dims.q_stride : dims.kv_stride;
      for (int b = 0; b < c.B; ++b) {
        for (int t = 0; t < T; ++t) {
          const bool pad = part > 0 && !c.key_len.empty() && t >= c.key_len[b];
          for (int col = 0; col < c.d; ++col) {
            const size_t i = off[part] + (static_cast<size_t>(b) * T + t) * stride + col;
            (pad ? masked : index[part]).push_back(i);
          }
        }
      }
    }
    for (auto& list : index) {
      for (size_t i : list) x[i] = static_cast<float>(rng.normal());
    }
    out.assign(static_cast<size_t>(c.B) * c.Tq * c.d, NAN);
    lse.assign(static_cast<size_t>(c.B) * c.H * c.Tq, NAN);
    ent.assign(lse.size(), NAN);
  }
  void forward(bool with_entropy = true) {
    attention_forward(out.data(), lse.data(), with_entropy ? ent.data() : nullptr, x.data() + q_off,
                      x.data() + k_off, x.data() + v_off, dims);
  }
  void backward(std::vector<float>& g, const std::vector<float>& dout) const {
    attention_backward(g.data() + q_off, g.data() + k_off, g.data() + v_off, dout.data(),
                       out.data(), lse.data(), x.data() + q_off, x.data() + k_off, x.data() + v_off,
                       dims);
  }
  int visible(int b, int i) const {  // keys [0, n) visible to query i (the documented rule)
    int n = c.key_len.empty() ? c.Tk : c.key_len[b];
    if (c.causal) n = std::min(n, i + c.Tk - c.Tq + 1);
    return std::max(n, 0);
  }
};

const FlashCase kFlashCases[] = {
    {"causal_fused", 2, 2, 16, 70, 70, true, {}, true},
    {"causal_hd24", 1, 2, 48, 130, 130, true, {}, false},
    {"encoder_padded", 3, 2, 8, 67, 67, false, {67, 40, 1}, false},
    {"cross", 2, 3, 15, 9, 75, false, {75, 66}, false},
    {"cross_more_queries", 2, 1, 8, 70, 20, false, {20, 7}, false},
    {"causal_chunk", 1, 2, 16, 5, 68, true, {}, false},
    {"decode", 2, 2, 16, 1, 70, true, {70, 33}, false},
    {"no_visible_keys", 2, 2, 8, 6, 4, true, {4, 0}, false},
};

// Double-precision softmax attention of every row: out, lse, entropy (rows without a visible key:
// 0, 0, 0 as documented).
void reference(const Flash& f, std::vector<double>& out, std::vector<double>& lse,
               std::vector<double>& ent) {
  const FlashCase& c = f.c;
  const int hd = c.d / c.H;
  out.assign(f.out.size(), 0.0);
  lse.assign(f.lse.size(), 0.0);
  ent.assign(f.lse.size(), 0.0);
  auto at = [&](size_t off, int stride, int T, int b, int t, int col) {
    return static_cast<double>(f.x[off + (static_cast<size_t>(b) * T + t) * stride + col]);
  };
  for (int b = 0; b < c.B; ++b) {
    for (int h = 0; h < c.H; ++h) {
      for (int i = 0; i < c.Tq; ++i) {
        const int n = f.visible(b, i);
        if (n == 0) continue;
        std::vector<double> s(n, 0.0);
        double mx = -INFINITY;
        for (int j = 0; j < n; ++j) {
          for (int e = 0; e < hd; ++e) {
            s[j] += at(f.q_off, f.dims.q_stride, c.Tq, b, i, h * hd + e) *
                    at(f.k_off, f.dims.kv_stride, c.Tk, b, j, h * hd + e);
          }
          s[j] /= std::sqrt(static_cast<double>(hd));
          mx = std::max(mx, s[j]);
        }
        double z = 0.0;
        for (int j = 0; j < n; ++j) z += std::exp(s[j] - mx);
        const size_t row = (static_cast<size_t>(b) * c.H + h) * c.Tq + i;
        lse[row] = mx + std::log(z);
        for (int j = 0; j < n; ++j) {
          const double p = std::exp(s[j] - lse[row]);
          ent[row] -= p * (s[j] - lse[row]);
          for (int e = 0; e < hd; ++e) {
            out[(static_cast<size_t>(b) * c.Tq + i) * c.d + h * hd + e] +=
                p * at(f.v_off, f.dims.kv_stride, c.Tk, b, j, h * hd + e);
          }
        }
      }
    }
  }
}

TEST(FlashAttention, ForwardMatchesReference) {
  Rng rng(21);
  for (const FlashCase& fc : kFlashCases) {
    Flash f(fc, rng);
    f.forward();
    std::vector<double> out, lse, ent;
    reference(f, out, lse, ent);
    for (size_t i = 0; i < out.size(); ++i) {
      ASSERT_NEAR(f.out[i], out[i], 2e-6 * std::max(1.0, std::fabs(out[i]))) << fc.name << " " << i;
    }
    for (size_t i = 0; i < lse.size(); ++i) {
      ASSERT_NEAR(f.lse[i], lse[i], 2e-6 * std::max(1.0, std::fabs(lse[i]))) << fc.name << " " << i;
      ASSERT_NEAR(f.ent[i], ent[i], 2e-6 * std::max(1.0, std::fabs(ent[i]))) << fc.name << " " << i;
    }
    // Without entropy requested the other outputs are identical.
    const auto out_e = f.out, lse_e = f.lse;
    f.forward(false);
    EXPECT_EQ(f.out, out_e) << fc.name;
    EXPECT_EQ(f.lse, lse_e) << fc.name;
  }
}

TEST(FlashAttention, RowsWithoutVisibleKeysAreZero) {
  Rng rng(22);
  Flash f(kFlashCases[7],
          rng);  // causal Tq 6 > Tk 4: rows 0, 1 see nothing; batch 1 is all padding
  f.forward();
  const int hd = f.c.d / f.c.H;
  int empty_rows = 0;
  for (int b = 0; b < f.c.B; ++b) {
    for (int i = 0; i < f.c.Tq; ++i) {
      if (f.visible(b, i) > 0) continue;
      ++empty_rows;
      for (int h = 0; h < f.c.H; ++h) {
        const size_t row = (static_cast<size_t>(b) * f.c.H + h) * f.c.Tq + i;
        EXPECT_EQ(f.lse[row], 0.0f);
        EXPECT_EQ(f.ent[row], 0.0f);
        for (int e = 0; e < hd; ++e) {
          EXPECT_EQ(f.out[(static_cast<size_t>(b) * f.c.Tq + i) * f.c.d + h * hd + e], 0.0f);
        }
      }
    }
  }
  EXPECT_EQ(empty_rows, 2 + 6);
  // The gradient of an empty row's query is exactly zero and nothing is NaN.
  const auto w = random_vec(f.out.size(), rng);
  std::vector<float> g(f.x.size(), 0.0f);
  f.backward(g, w);
  for (float gi : g) ASSERT_TRUE(std::isfinite(gi));
  for (int i = 0; i < f.c.Tq; ++i) {
    for (int col = 0; col < f.c.d; ++col) {
      EXPECT_EQ(g[f.q_off + (static_cast<size_t>(1) * f.c.Tq + i) * f.dims.q_stride + col], 0.0f);
    }
  }
}

// L(x) = sum(w * out) in double with dout = w; central differences along random directions
// supported on q, k or v (tolerances as in BackwardMatchesFiniteDifferencesAndAccumulates).
// Also: padding keys and stride gaps get exactly zero gradient, and backward accumulates.
TEST(FlashAttention, BackwardMatchesFiniteDifferences) {
  Rng rng(23);
  const double h = 1e-2;
  for (const FlashCase& fc : kFlashCases) {
    Flash f(fc, rng);
    const auto w = random_vec(f.out.size(), rng);
    auto loss = [&]() {
      f.forward();
      return dot(w, f.out);
    };
    loss();
    std::vector<float> grad(f.x.size(), 0.0f);
    f.backward(grad, w);

    std::vector<bool> touched(f.x.size(), false);
    for (const auto& list : f.index) {
      for (size_t i : list) touched[i] = true;
    }
    for (size_t i = 0; i < grad.size(); ++i) {
      if (!touched[i]) {
        ASSERT_EQ(grad[i], 0.0f) << fc.name << " padding key or stride gap " << i;
      }
    }

    const char* names[] = {"q", "k", "v"};
    for (int part = 0; part < 3; ++part) {
      for (int trial = 0; trial < 2; ++trial) {
        std::vector<float> u(f.x.size(), 0.0f);
        for (size_t i : f.index[part]) u[i] = static_cast<float>(rng.normal());
        const double analytic = dot(grad, u);
        const double numeric = directional_fd(f.x, u, h, loss);
        EXPECT_NEAR(analytic, numeric, 1e-2 * std::max(0.1, std::fabs(numeric)))
            << fc.name << " d" << names[part] << " trial " << trial;
      }
    }

    loss();
    const float fill = -0.5f;
    std::vector<float> acc(f.x.size(), fill);
    f.backward(acc, w);
    for (size_t i = 0; i < acc.size(); ++i) {
      ASSERT_NEAR(acc[i] - fill, grad[i], 1e-5) << fc.name << " " << i;
    }
  }
}

// Against the [B,H,T,T]-storing causal kernel above, on a fused qkv buffer.
TEST(FlashAttention, MatchesStoredProbabilityKernel) {
  Rng rng(24);
  for (const FlashCase& fc :
       {kFlashCases[0], FlashCase{"one_block", 2, 4, 32, 17, 17, true, {}, true}}) {
    Flash f(fc, rng);
    f.forward();
    Fused old({fc.B, fc.Tq, fc.d, fc.H}, rng);
    old.qkv = f.x;
    old.forward();
    for (size_t i = 0; i < f.out.size(); ++i) ASSERT_NEAR(f.out[i], old.out[i], 2e-6) << i;

    const auto w = random_vec(f.out.size(), rng);
    std::vector<float> g_new(f.x.size(), 0.0f), g_old(f.x.size(), 0.0f);
    f.backward(g_new, w);
    old.backward(g_old, w);
    for (size_t i = 0; i < g_new.size(); ++i) {
      ASSERT_NEAR(g_new[i], g_old[i], 1e-5 * std::max(1.0f, std::fabs(g_old[i]))) << i;
    }
  }
}

TEST(FlashAttention, ResultsDoNotDependOnThreadCount) {
  Rng rng(25);
  const int saved = omp_get_max_threads();
  for (const FlashCase& fc :
       {FlashCase{"causal", 2, 3, 24, 150, 150, true, {}, true}, kFlashCases[2], kFlashCases[3]}) {
    Flash f(fc, rng);
    const auto w = random_vec(f.out.size(), rng);
    std::vector<float> out[2], lse[2], ent[2], grad[2];
    for (int n : {1, 2}) {
      omp_set_num_threads(n);
      f.forward();
      out[n - 1] = f.out;
      lse[n - 1] = f.lse;
      ent[n - 1] = f.ent;
      grad[n - 1].assign(f.x.size(), 0.0f);
      f.backward(grad[n - 1], w);
    }
    omp_set_num_threads(saved);
    EXPECT_EQ(out[0], out[1]) << fc.name;
    EXPECT_EQ(lse[0], lse[1]) << fc.name;
    EXPECT_EQ(ent[0], ent[1]) << fc.name;
    EXPECT_EQ(grad[0], grad[1]) << fc.name;
  }
}

// Scratch is reused across calls: values left by a call on non-finite inputs (a diverged step)
// must not reach a later call, even in the masked lanes a causal diagonal block skips.
TEST(FlashAttention, NonFiniteCallDoesNotLeakIntoTheNext) {
  Rng rng(26);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);  // one thread: the poisoned scratch is certainly the one reused
  Flash f(kFlashCases[1], rng);
  const auto w = random_vec(f.out.size(), rng);
  std::vector<float> out[2], ent[2], grad[2];
  for (int pass = 0; pass < 2; ++pass) {
    if (pass == 1) {
      FlashCase poison = kFlashCases[1];
      poison.causal = false;  // every lane of every block computed
      Flash p(poison, rng);
      std::fill(p.x.begin(), p.x.end(), NAN);
      p.forward();
      std::vector<float> g(p.x.size(), 0.0f);
      p.backward(g, w);
    }
    f.forward();
    out[pass] = f.out;
    ent[pass] = f.ent;
    grad[pass].assign(f.x.size(), 0.0f);
    f.backward(grad[pass], w);
  }
  omp_set_num_threads(saved);
  EXPECT_EQ(out[0], out[1]);
  EXPECT_EQ(ent[0], ent[1]);
  EXPECT_EQ(grad[0], grad[1]);
}

TEST(FlashAttention, RejectsInconsistentDims) {
  std::vector<float> buf(64, 0.0f);
  AttentionDims a;
  a.B = 1;
  a.H = 3;
  a.d = 8;  // not divisible by H
  a.Tq = a.Tk = 2;
  a.q_stride = a.kv_stride = 8;
  EXPECT_THROW(
      attention_forward(buf.data(), buf.data(), nullptr, buf.data(), buf.data(), buf.data(), a),
      std::invalid_argument);
  a.H = 2;
  const int32_t too_long[] = {3};
  a.key_len = too_long;
  EXPECT_THROW(
      attention_forward(buf.data(), buf.data(), nullptr, buf.data(), buf.data(), buf.data(), a),
      std::invalid_argument);
}

}  // namespace
}  // namespace normlab
