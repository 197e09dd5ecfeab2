// Tiled attention (FlashAttention, Dao et al. 2022; loop order and backward of FlashAttention-2,
// Dao 2023) on the CPU. Memory per thread is O(block) plus one O(Tq) vector in the backward; the
// [Tq, Tk] score matrix of a head never exists. Blocks of 32 queries x 32 keys: measured faster
// than 64 x 64, 64 x 32, 32 x 64 and 48 x 48 on the reference and gpt2small shapes (smaller
// causal diagonal blocks, scratch in L1).
//
// Forward, one OpenMP task per (b, h, block of kBr queries), for key blocks of kBc keys in order:
//   S = s Q K^T (s = 1/sqrt(hd)); per row, m' = max(m, max_j S_j), alpha = e^(m - m'),
//   P = e^(S - m'), l' = alpha l + sum_j P_j, O' = alpha O + P V;
// at the end o = O / l and lse = m + log l. For the entropy H = -sum p log p = log l - t / l with
// t = sum_j e^(S_j - m)(S_j - m), carried across blocks as t' = alpha (t + (m - m') l) + new terms
// (all terms relative to the running max: no cancellation between lse and E[S] of size |S|).
// Tasks write disjoint rows of out/lse/entropy, so the schedule does not change any result.
//
// Backward, one task per (b, h), key blocks outer and query blocks inner (FlashAttention-2):
//   D_i = dO_i . O_i,  P = e^(S - lse),  dV_j += P^T dO,  dP = dO V_j^T,  dS = P (dP - D),
//   dQ_i += s dS K_j,  dK_j += s dS^T Q_i,
// using sum_j P_ij dP_ij = dO_i . sum_j P_ij v_j = dO_i . O_i = D_i (softmax Jacobian row sum).
// dK_j, dV_j live in per-thread block scratch and are written to dk, dv once per key block; dQ is
// summed straight into dq, zeroed first. A task owns all of head h of batch b, so no two threads
// touch the same float and each sum runs in a fixed order: the result does not depend on the thread
// count. (Splitting the backward over key blocks as well would need dQ partials reduced in a fixed
// order, or a second pass recomputing P: 7 instead of 5 block products.)
//
// The block products run on the register tiles of attention_tile.hpp, with the strided q/k/v/dout
// rows read in place; only the forward's Q block (once per task) and the backward's K and V
// blocks (once per key block) are transposed, so that scores come out along contiguous rows.
// Timings: bench/attention_bench.cpp.
#include "kernels/attention.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/attention_tile.hpp"

namespace normlab {
namespace {

using attention_tile::gemm;
using attention_tile::Limits;
using attention_tile::load8;
using attention_tile::MatA;
using attention_tile::MatB;
using attention_tile::MatC;
using attention_tile::store8;
using attention_tile::transpose;
using attention_tile::v8;

constexpr int kBr = 32;  // queries per block
constexpr int kBc = 32;  // keys per block

// The key sequence that query batch b reads: its own, or another's (hypotheses sharing a source).
inline int key_batch(const AttentionDims& a, int b) {
  return a.kv_batch ? a.kv_batch[b] : b;
}

void check_dims(const AttentionDims& a) {
  auto fail = [](const std::string& why) { throw std::invalid_argument("attention: " + why); };
  if (a.B < 0 || a.H <= 0 || a.d <= 0 || a.Tq < 0 || a.Tk < 0) fail("negative or zero dimension");
  if (a.d % a.H != 0)
    fail("d=" + std::to_string(a.d) + " not divisible by H=" + std::to_string(a.H));
  if (a.q_stride < a.d || a.kv_stride < a.d) fail("stride smaller than d");
  if (a.kv_batch_stride < 0) fail("negative kv_batch_stride");
  for (int b = 0; b < a.B; ++b) {
    const int kb = key_batch(a, b);
    if (kb < 0) fail("kv_batch[" + std::to_string(b) + "]=" + std::to_string(kb) + " negative");
    if (a.key_len && (a.key_len[kb] < 0 || a.key_len[kb] > a.Tk)) {
      fail("key_len[" + std::to_string(kb) + "]=" + std::to_string(a.key_len[kb]) +
           " outside [0, Tk=" + std::to_string(a.Tk) + "]");
    }
  }
}

// Keys [0, n) are visible to query i of batch b; nondecreasing in i.
inline int visible_keys(const AttentionDims& a, int b, int i) {
  int n = a.key_len ? a.key_len[key_batch(a, b)] : a.Tk;
  if (a.causal) n = std::min(n, i + (a.Tk - a.Tq) + 1);
  return std::max(n, 0);
}

// Per-thread scratch, grown once and reused across calls (no allocation in steady state).
float* thread_scratch(size_t n) {
  thread_local std::vector<float> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

// Horizontal sum in a fixed lane order.
inline float hsum(v8 x) {
  return ((x[0] + x[4]) + (x[1] + x[5])) + ((x[2] + x[6]) + (x[3] + x[7]));
}

// sum_j x_j y_j in a fixed order (8 lanes, then the tail): GCC does not vectorise float
// reductions without -ffast-math.
inline float dot(const float* x, const float* y, int n) {
  v8 acc = {};
  int j = 0;
  for (; j + 8 <= n; j += 8) acc += load8(x + j) * load8(y + j);
  float s = hsum(acc);
  for (; j < n; ++j) s += x[j] * y[j];
  return s;
}

struct Head {
  const AttentionDims& a;
  int b, h, hd;
  float scale;
  const float* q(const float* base, int i) const {  // row i of the query head slice
    return base + (static_cast<ptrdiff_t>(b) * a.Tq + i) * a.q_stride + h * hd;
  }
  ptrdiff_t kv_offset(int j) const {  // of row j of the key (and value) head slice
    const ptrdiff_t batch_stride =
        a.kv_batch_stride ? a.kv_batch_stride : static_cast<ptrdiff_t>(a.Tk) * a.kv_stride;
    return key_batch(a, b) * batch_stride + static_cast<ptrdiff_t>(j) * a.kv_stride + h * hd;
  }
  const float* kv(const float* base, int j) const { return base + kv_offset(j); }
  ptrdiff_t row(int i) const {  // index into [B, H, Tq] arrays
    return (static_cast<ptrdiff_t>(b) * a.H + h) * a.Tq + i;
  }
};

typedef int v8i __attribute__((vector_size(32)));

inline v8 bcast(float x) {
  return v8{} + x;
}
inline v8 clamp8(v8 x, float lo, float hi) {
  x = x < lo ? bcast(lo) : x;
  return x > hi ? bcast(hi) : x;
}

// exp_nonpositive (kernels/fast_exp.hpp: Cody-Waite reduction, degree-7 Taylor polynomial, 2^n
// in the exponent bits) on 8 lanes, written out because GCC 12 leaves the scalar one unvectorised
// inside the masked softmax loops below. Inputs are clamped to [-100, 0] by the callers: the
// arguments are <= 0 up to rounding, or huge negative differences with the kNone sentinel.
inline v8 exp8(v8 x) {
  const v8 n = (x * 1.44269504f + 12582912.0f) - 12582912.0f;
  const v8 r = (x - n * 0.693145751953125f) - n * 1.42860682030941723e-6f;
  v8 p = r * (1.0f / 5040.0f) + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const v8i two_n = (__builtin_convertvector(n, v8i) + 127) << 23;
  const v8 e = p * std::bit_cast<v8>(two_n);
  return x < -87.0f ? v8{} : e;
}

// Running-max sentinel of a query that has seen no key yet. Finite rather than -inf so that the
// rescaling terms stay finite without branches: e^(kNone - m) = 0 and (kNone - m) * l = 0 as l = 0.
constexpr float kNone = -1e30f;

constexpr v8 kLane = {0, 1, 2, 3, 4, 5, 6, 7};

// Visibility inside one (query block, key block) pair: query r of the block sees keys
// [0, vis[r]) of the key block, and key jj is seen by queries [first[jj], br). Both are
// nondecreasing because visible_keys is. Only pairs on a causal diagonal (or straddling a
// padding boundary) are not `full`; their products skip the masked corner (attention_tile Limits).
struct PairMask {
  int vis[kBr], first[kBc];
  bool full = true;
  PairMask(const AttentionDims& a, int b, int i0, int br, int j0, int bc) {
    for (int r = 0; r < br; ++r) {
      vis[r] = std::clamp(visible_keys(a, b, i0 + r) - j0, 0, bc);
      full = full && vis[r] == bc;
    }
    for (int jj = 0, r = 0; jj < bc; ++jj) {
      while (r < br && vis[r] <= jj) ++r;
      first[jj] = r;
    }
  }
  Limits rows_see_keys() const { return full ? Limits{} : Limits{nullptr, vis, nullptr, nullptr}; }
  Limits score_rows() const { return full ? Limits{} : Limits{nullptr, nullptr, nullptr, vis}; }
  Limits keys_seen_by() const { return full ? Limits{} : Limits{first, nullptr, nullptr, nullptr}; }
  Limits score_cols() const { return full ? Limits{} : Limits{nullptr, nullptr, first, nullptr}; }
};

// Scores are computed transposed, ST[j][r] = k_j . (s q_r), so that the softmax statistics of
// query r run down a column: every row operation below is elementwise across the queries of the
// block (vectorised, no horizontal reductions), and only the Q block is transposed, once, while K
// and V rows are read in place.
void forward_block(float* out, float* lse, float* entropy, const float* q, const float* k,
                   const float* v, const Head& g, int i0, float* scratch) {
  const AttentionDims& a = g.a;
  const int hd = g.hd;
  const int br = std::min(kBr, a.Tq - i0);
  const int np = (br + 7) / 8 * 8;  // queries padded to whole 8-lane vectors (zero columns of Qt)
  float* O = scratch;               // [kBr, hd]
  float* ST = O + kBr * hd;         // [kBc, kBr] scores, then probabilities
  float* Qt = ST + kBc * kBr;       // [hd, kBr] scaled queries, transposed
  // Per query: visible keys (as float, exact; 0 for the padding queries), running max, sum and
  // entropy term, and the rescaling factor of the current key block.
  float n[kBr], m[kBr], l[kBr], t[kBr], alpha[kBr];
  for (int r = 0; r < np; ++r) {
    n[r] = r < br ? static_cast<float>(visible_keys(a, g.b, i0 + r)) : 0.0f;
    m[r] = kNone;
    l[r] = t[r] = 0.0f;
  }
  const int n_max = static_cast<int>(n[br - 1]);
  std::fill(O, O + br * hd, 0.0f);
  const bool by_dot = br < 8;  // decoding: a dot product per key beats tiles with 7 idle lanes
  if (!by_dot) {
    transpose(Qt, kBr, g.q(q, i0), a.q_stride, br, hd, g.scale);
    for (int c = 0; c < hd; ++c) std::fill(Qt + c * kBr + br, Qt + c * kBr + np, 0.0f);
  }

  for (int j0 = 0; j0 < n_max; j0 += kBc) {
    const int bc = std::min(kBc, n_max - j0);
    const PairMask pm(a, g.b, i0, br, j0, bc);
    if (by_dot) {
      const float* Q = g.q(q, i0);
      for (int jj = 0; jj < bc; ++jj) {
        const float* kr = g.kv(k, j0 + jj);
        for (int r = 0; r < br; ++r) ST[jj * kBr + r] = g.scale * dot(kr, Q + r * a.q_stride, hd);
      }
    } else {
      gemm<false>(MatC{ST, kBr}, MatA{g.kv(k, j0), a.kv_stride, 1}, MatB{Qt, kBr}, bc, np, hd, 1.0f,
                  pm.score_cols());
    }
    for (int r = 0; r < np; r += 8) {
      const v8 nr = load8(n + r);
      v8 mx = bcast(kNone);
      for (int jj = 0; jj < bc; ++jj) {
        const v8 s = load8(ST + jj * kBr + r);
        mx = (static_cast<float>(j0 + jj) < nr) & (s > mx) ? s : mx;
      }
      const v8 mo = load8(m + r);
      const v8 mn = mo > mx ? mo : mx;
      const v8 al = exp8(clamp8(mo - mn, -100.0f, 0.0f));
      v8 ls = {}, ts = {};
      for (int jj = 0; jj < bc; ++jj) {
        // Masked lanes may hold anything (skipped by score_cols(), or padding queries): selected
        // away, never multiplied.
        float* sp = ST + jj * kBr + r;
        const v8i visible = static_cast<float>(j0 + jj) < nr;
        const v8 x = clamp8(load8(sp) - mn, -100.0f, 0.0f);
        const v8 e = exp8(x);
        const v8 p = visible ? e : v8{};
        store8(sp, p);
        ls += p;
        ts += visible ? e * x : v8{};
      }
      store8(t + r, al * (load8(t + r) + (mo - mn) * load8(l + r)) + ts);
      store8(l + r, al * load8(l + r) + ls);
      store8(m + r, mn);
      store8(alpha + r, al);
    }
    for (int r = 0; r < br; ++r) {
      if (alpha[r] != 1.0f) {
        float* o = O + r * hd;
        for (int c = 0; c < hd; ++c) o[c] *= alpha[r];
      }
    }
    gemm<true>(MatC{O, hd}, MatA{ST, 1, kBr}, MatB{g.kv(v, j0), a.kv_stride}, br, hd, bc, 1.0f,
               pm.rows_see_keys());
  }

  for (int r = 0; r < br; ++r) {
    float* o = out + (static_cast<ptrdiff_t>(g.b) * a.Tq + i0 + r) * a.d + g.h * hd;
    const ptrdiff_t row = g.row(i0 + r);
    if (l[r] > 0.0f) {
      const float inv = 1.0f / l[r];
      for (int c = 0; c < hd; ++c) o[c] = O[r * hd + c] * inv;
      lse[row] = m[r] + std::log(l[r]);
      if (entropy) entropy[row] = std::log(l[r]) - t[r] * inv;
    } else {  // no visible key
      std::fill(o, o + hd, 0.0f);
      lse[row] = 0.0f;
      if (entropy) entropy[row] = 0.0f;
    }
  }
}

void backward_head(float* dq, float* dk, float* dv, const float* dout, const float* out,
                   const float* lse, const float* q, const float* k, const float* v, const Head& g,
                   float* scratch) {
  const AttentionDims& a = g.a;
  const int hd = g.hd;
  const size_t blk = static_cast<size_t>(kBc) * hd;
  float *Kt = scratch, *Vt = Kt + blk, *dK = Vt + blk, *dV = dK + blk;  // [hd, kBc] / [kBc, hd]
  float* P = dV + blk;                                                  // [kBr, kBc]
  float* dS = P + kBr * kBc;                                            // dP, then dS
  float* D = dS + kBr * kBc;                                            // [Tq]
  const ptrdiff_t out_base = static_cast<ptrdiff_t>(g.b) * a.Tq * a.d + g.h * hd;
  for (int i = 0; i < a.Tq; ++i) {
    const ptrdiff_t off = out_base + static_cast<ptrdiff_t>(i) * a.d;
    D[i] = dot(dout + off, out + off, hd);
  }
  const float* lse_h = lse + g.row(0);
  const int n_max = a.Tq > 0 ? visible_keys(a, g.b, a.Tq - 1) : 0;
  // dq is summed over key blocks in place: start it at zero (a query that sees no key keeps it).
  for (int i = 0; i < a.Tq; ++i) {
    float* dq_i = dq + (static_cast<ptrdiff_t>(g.b) * a.Tq + i) * a.q_stride + g.h * hd;
    std::fill(dq_i, dq_i + hd, 0.0f);
  }

  for (int j0 = 0; j0 < n_max; j0 += kBc) {
    const int bc = std::min(kBc, n_max - j0);
    const float* K = g.kv(k, j0);
    // Key columns padded with zeros to whole 8-lane vectors: the score products then never take
    // the scalar column path, and the padding lanes are masked below.
    const int bp = (bc + 7) / 8 * 8;
    transpose(Kt, kBc, K, a.kv_stride, bc, hd, 1.0f);
    transpose(Vt, kBc, g.kv(v, j0), a.kv_stride, bc, hd, 1.0f);
    for (int c = 0; c < hd; ++c) {
      std::fill(Kt + c * kBc + bc, Kt + c * kBc + bp, 0.0f);
      std::fill(Vt + c * kBc + bc, Vt + c * kBc + bp, 0.0f);
    }
    std::fill(dK, dK + bc * hd, 0.0f);
    std::fill(dV, dV + bc * hd, 0.0f);
    for (int i0 = 0; i0 < a.Tq; i0 += kBr) {
      const int br = std::min(kBr, a.Tq - i0);
      if (visible_keys(a, g.b, i0 + br - 1) <= j0) continue;  // no row of the block sees key j0
      const float* Q = g.q(q, i0);
      const float* dO = dout + out_base + static_cast<ptrdiff_t>(i0) * a.d;
      const PairMask pm(a, g.b, i0, br, j0, bc);
      gemm<false>(MatC{P, kBc}, MatA{Q, a.q_stride, 1}, MatB{Kt, kBc}, br, bp, hd, g.scale,
                  pm.score_rows());
      // Lanes of invisible keys, including the zero padding keys >= bc, get P = 0 and dS = 0
      // (those of dP may be stale: score_rows() skips them).
      for (int r = 0; r < br; ++r) {
        float* p = P + r * kBc;
        const float vis = static_cast<float>(pm.vis[r]);
        const float L = lse_h[i0 + r];
        for (int j = 0; j < bc; j += 8) {
          const v8 x = clamp8(load8(p + j) - L, -100.0f, 0.0f);
          store8(p + j, bcast(static_cast<float>(j)) + kLane < vis ? exp8(x) : v8{});
        }
      }
      gemm<true>(MatC{dV, hd}, MatA{P, 1, kBc}, MatB{dO, a.d}, bc, hd, br, 1.0f, pm.keys_seen_by());
      gemm<false>(MatC{dS, kBc}, MatA{dO, a.d, 1}, MatB{Vt, kBc}, br, bp, hd, 1.0f,
                  pm.score_rows());
      for (int r = 0; r < br; ++r) {
        const float* p = P + r * kBc;
        float* ds = dS + r * kBc;
        const float vis = static_cast<float>(pm.vis[r]);
        const v8 Dr = bcast(D[i0 + r]);
        for (int j = 0; j < bc; j += 8) {
          const v8 x = load8(p + j) * (load8(ds + j) - Dr);
          store8(ds + j, bcast(static_cast<float>(j)) + kLane < vis ? x : v8{});
        }
      }
      float* dQ = dq + (static_cast<ptrdiff_t>(g.b) * a.Tq + i0) * a.q_stride + g.h * hd;
      gemm<true>(MatC{dQ, a.q_stride}, MatA{dS, kBc, 1}, MatB{K, a.kv_stride}, br, hd, bc, g.scale,
                 pm.rows_see_keys());
      gemm<true>(MatC{dK, hd}, MatA{dS, 1, kBc}, MatB{Q, a.q_stride}, bc, hd, br, g.scale,
                 pm.keys_seen_by());
    }
    for (int j = 0; j < bc; ++j) {
      const ptrdiff_t off = g.kv_offset(j0 + j);
      std::copy(dK + j * hd, dK + (j + 1) * hd, dk + off);
      std::copy(dV + j * hd, dV + (j + 1) * hd, dv + off);
    }
  }
  for (int j = n_max; j < a.Tk; ++j) {  // keys no query sees (padding): zero gradient
    const ptrdiff_t off = g.kv_offset(j);
    std::fill(dk + off, dk + off + hd, 0.0f);
    std::fill(dv + off, dv + off + hd, 0.0f);
  }
}

}  // namespace

void attention_forward(float* out, float* lse, float* entropy, const float* q, const float* k,
                       const float* v, const AttentionDims& a) {
  check_dims(a);
  if (a.B == 0 || a.Tq == 0) return;
  const int hd = a.d / a.H;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const int nqb = (a.Tq + kBr - 1) / kBr;
  const int tasks = a.B * a.H * nqb;
  const size_t scratch = static_cast<size_t>(kBr) * hd + kBc * kBr + hd * kBr;
#pragma omp parallel
  {
    float* buf = thread_scratch(scratch);
    // Causal blocks differ in cost; dynamic scheduling balances them and, tasks being
    // independent, cannot change any result.
#pragma omp for schedule(dynamic)
    for (int task = 0; task < tasks; ++task) {
      const int bh = task / nqb, qb = task % nqb;
      const Head g{a, bh / a.H, bh % a.H, hd, scale};
      forward_block(out, lse, entropy, q, k, v, g, qb * kBr, buf);
    }
  }
}

void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* out,
                        const float* lse, const float* q, const float* k, const float* v,
                        const AttentionDims& a) {
  check_dims(a);
  // Two query batches reading one key sequence would both write its gradient.
  if (a.kv_batch) throw std::invalid_argument("attention: kv_batch is for the forward only");
  if (a.B == 0) return;
  const int hd = a.d / a.H;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const size_t scratch = 4 * static_cast<size_t>(kBc) * hd + 2 * kBr * kBc + a.Tq;
#pragma omp parallel
  {
    float* buf = thread_scratch(scratch);
#pragma omp for schedule(dynamic)
    for (int bh = 0; bh < a.B * a.H; ++bh) {
      const Head g{a, bh / a.H, bh % a.H, hd, scale};
      backward_head(dq, dk, dv, dout, out, lse, q, k, v, g, buf);
    }
  }
}

}  // namespace normlab
