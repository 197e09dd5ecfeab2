// Attention (kernels/attention.hpp) on causal self-attention (fused qkv), key padding,
// cross-attention, chunked and one-query decoding, strided operands: out, lse and entropy against
// a double-precision reference, causality, rows without visible keys, finite differences,
// overwriting, zero gradient of padding, thread-count independence, scratch reuse after
// non-finite inputs and rejected dims.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "core/rng.hpp"
#include "finite_difference.hpp"
#include "kernels/attention.hpp"

namespace normlab {
namespace {

// The kernel works in blocks of 32 queries and 32 keys, so the shapes below cross block
// boundaries (T = 67..130: full blocks, causal diagonal blocks and a partial last block) and cover
// the head widths of each product path (hd = 2, 4, 5: scalar columns; 8: one 8-lane tile; 24:
// 16 + 8 lanes). Fewer than 8 queries (Tq = 1, 5, 6) take the dot-product path.

struct Case {
  const char* name;
  int B, H, d, Tq, Tk;
  bool causal;
  std::vector<int32_t> key_len;  // empty: no padding
  bool fused;                    // q, k, v in one [B, T, 3d] buffer (Tq == Tk)
};

// All of q, k, v live in one buffer x (fused: [B, T, 3d]; else q rows at stride d + 2, then k and
// v rows side by side at stride 2d + 3). Stride gaps and padding keys hold NaN: the kernel must
// never read them, and their gradient must stay exactly zero.
struct Harness {
  Case c;
  AttentionDims dims;
  size_t q_off = 0, k_off = 0, v_off = 0;
  std::vector<float> x, out, lse, ent;
  std::vector<size_t> index[3];  // positions in x of the q, k and v elements
  std::vector<size_t> masked;    // positions in x of padding keys' k and v elements

  Harness(const Case& fc, Rng& rng) : c(fc) {
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

const Case kCases[] = {
    {"causal_fused", 2, 2, 16, 70, 70, true, {}, true},
    {"causal_hd24", 1, 2, 48, 130, 130, true, {}, false},
    {"encoder_padded", 3, 2, 8, 67, 67, false, {67, 40, 1}, false},
    {"cross", 2, 3, 15, 9, 75, false, {75, 66}, false},
    {"cross_more_queries", 2, 1, 8, 70, 20, false, {20, 7}, false},
    {"causal_chunk", 1, 2, 16, 5, 68, true, {}, false},
    {"decode", 2, 2, 16, 1, 70, true, {70, 33}, false},
    {"no_visible_keys", 2, 2, 8, 6, 4, true, {4, 0}, false},
    {"causal_small_hd4", 2, 2, 8, 5, 5, true, {}, true},
    {"causal_small_hd2", 1, 3, 6, 6, 6, true, {}, true},
};

// Double-precision softmax attention of every row: out, lse, entropy (rows without a visible key:
// 0, 0, 0 as documented).
void reference(const Harness& f, std::vector<double>& out, std::vector<double>& lse,
               std::vector<double>& ent) {
  const Case& c = f.c;
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

TEST(Attention, ForwardMatchesReference) {
  Rng rng(21);
  for (const Case& fc : kCases) {
    Harness f(fc, rng);
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

// Perturbing k and v (all heads) at position t0 of batch 0 changes exactly the outputs of the
// queries t >= t0 of batch 0; the others stay bit-identical (masked keys are never read, not just
// weighted by ~0). t0 = 40 lies inside the second 32-query block, so a causal diagonal block has
// rows on both sides of it; the small case runs the dot-product path.
TEST(Attention, FutureKeysAndValuesDoNotChangeEarlierOutputs) {
  Rng rng(27);
  for (const auto& [fc, t0] : {std::pair{kCases[0], 40}, std::pair{kCases[8], 2}}) {
    Harness f(fc, rng);
    f.forward();
    const auto before = f.out;
    for (size_t off : {f.k_off, f.v_off}) {
      for (int col = 0; col < fc.d; ++col)
        f.x[off + static_cast<size_t>(t0) * f.dims.kv_stride + col] += 1.5f;
    }
    f.forward();
    for (int b = 0; b < fc.B; ++b) {
      for (int t = 0; t < fc.Tq; ++t) {
        bool changed = false;
        for (int col = 0; col < fc.d; ++col) {
          const size_t i = (static_cast<size_t>(b) * fc.Tq + t) * fc.d + col;
          changed |= f.out[i] != before[i];
        }
        EXPECT_EQ(changed, b == 0 && t >= t0) << fc.name << " b=" << b << " t=" << t;
      }
    }
  }
}

TEST(Attention, RowsWithoutVisibleKeysAreZero) {
  Rng rng(22);
  Harness f(kCases[7],
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
// supported on q, k or v, h = 1e-2: truncation error ~h^2 L''' / 6 ~ 1e-5 and float rounding of
// L (~1e-6) / 2h ~ 1e-4, against directional derivatives of order 1; tolerance 1e-2 relative
// (floor 0.1). A wrong sign, a missing 1/sqrt(hd) or a transposed P in dV all give errors of
// order 1. Also: padding keys and stride gaps get exactly zero gradient, and backward overwrites.
TEST(Attention, BackwardMatchesFiniteDifferences) {
  Rng rng(23);
  const double h = 1e-2;
  for (const Case& fc : kCases) {
    Harness f(fc, rng);
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

    // The gradient overwrites: from a NaN fill, every q/k/v float (padding keys included) gets
    // the same value as from zeros, and the stride gaps keep what they held.
    loss();
    std::vector<float> over(f.x.size(), NAN);
    f.backward(over, w);
    std::vector<bool> written = touched;
    for (size_t i : f.masked) written[i] = true;
    for (size_t i = 0; i < over.size(); ++i) {
      if (written[i])
        ASSERT_EQ(over[i], grad[i]) << fc.name << " " << i;
      else
        ASSERT_TRUE(std::isnan(over[i])) << fc.name << " stride gap " << i;
    }
  }
}

TEST(Attention, ResultsDoNotDependOnThreadCount) {
  Rng rng(25);
  const int saved = omp_get_max_threads();
  for (const Case& fc :
       {Case{"causal", 2, 3, 24, 150, 150, true, {}, true}, kCases[2], kCases[3]}) {
    Harness f(fc, rng);
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
TEST(Attention, NonFiniteCallDoesNotLeakIntoTheNext) {
  Rng rng(26);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);  // one thread: the poisoned scratch is certainly the one reused
  Harness f(kCases[1], rng);
  const auto w = random_vec(f.out.size(), rng);
  std::vector<float> out[2], ent[2], grad[2];
  for (int pass = 0; pass < 2; ++pass) {
    if (pass == 1) {
      Case poison = kCases[1];
      poison.causal = false;  // every lane of every block computed
      Harness p(poison, rng);
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

// One query per row over keys laid out as a KV cache: rows `capacity` positions apart
// (kv_batch_stride), and rows reading another batch's keys (kv_batch, with key_len indexed by
// it: hypotheses sharing a source). Each row must give the same bits as the kernel on a
// contiguous copy of the keys it reads; stale cache positions beyond Tk (NaN) are never read.
TEST(Attention, KeysInACacheLayoutMatchContiguousKeys) {
  Rng rng(27);
  const int H = 2, d = 16, capacity = 50, Tk = 37, sources = 2;
  const std::vector<int32_t> key_len = {37, 21};  // per source
  const size_t span = static_cast<size_t>(capacity) * d;
  std::vector<float> K(sources * span, NAN), V(sources * span, NAN);
  for (int b = 0; b < sources; ++b)
    for (size_t i = 0; i < static_cast<size_t>(Tk) * d; ++i) {
      K[b * span + i] = static_cast<float>(rng.normal());
      V[b * span + i] = static_cast<float>(rng.normal());
    }
  for (bool shared : {false, true}) {
    const std::vector<int32_t> kv_batch =
        shared ? std::vector<int32_t>{1, 0, 1} : std::vector<int32_t>{0, 1};
    const int B = static_cast<int>(kv_batch.size());
    const auto q = random_vec(static_cast<size_t>(B) * d, rng);
    AttentionDims dims;
    dims.B = B, dims.H = H, dims.d = d, dims.Tq = 1, dims.Tk = Tk, dims.causal = true;
    dims.q_stride = d, dims.kv_stride = d, dims.kv_batch_stride = static_cast<long>(span);
    if (shared) dims.kv_batch = kv_batch.data(), dims.key_len = key_len.data();
    std::vector<float> out(static_cast<size_t>(B) * d), lse(static_cast<size_t>(B) * H);
    attention_forward(out.data(), lse.data(), nullptr, q.data(), K.data(), V.data(), dims);
    for (int b = 0; b < B; ++b) {
      const int src = kv_batch[b], n = shared ? key_len[src] : Tk;
      AttentionDims one = dims;
      one.B = 1, one.Tk = n, one.kv_batch_stride = 0, one.kv_batch = nullptr, one.key_len = nullptr;
      std::vector<float> o1(d), l1(H);
      attention_forward(o1.data(), l1.data(), nullptr, q.data() + b * d, K.data() + src * span,
                        V.data() + src * span, one);
      for (int c = 0; c < d; ++c) ASSERT_EQ(out[b * d + c], o1[c]) << shared << " row " << b;
      for (int h = 0; h < H; ++h) ASSERT_EQ(lse[b * H + h], l1[h]) << shared << " row " << b;
    }
    if (shared) {
      std::vector<float> g(K.size());
      EXPECT_THROW(attention_backward(g.data(), g.data(), g.data(), out.data(), out.data(),
                                      lse.data(), q.data(), K.data(), V.data(), dims),
                   std::invalid_argument);
    }
  }
}

TEST(Attention, RejectsInconsistentDims) {
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
