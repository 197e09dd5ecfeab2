// Register-tiled small products for the tiled attention kernels (attention.cpp): every
// product there is C (=|+=) alpha * A B with M, N, K <= a block size or the head width, too
// small for oneDNN's per-call overhead and with strided operands (q/k/v head columns, transposed
// score blocks). Written with GCC vector extensions (also understood by Clang): plain loops over
// fixed-size float arrays compile to spilled 128-bit code with GCC 12, while the 6 x 16 tile below
// compiles to the classic broadcast-A / load-B kernel with all 12 accumulators in ymm registers
// (checked with -S on znver3).
//
// Each C element is one chain acc = fma(a_k, b_k, acc) over k in increasing order whatever the
// tile shape or position, so results do not depend on how M and N are split.
#pragma once
#include <algorithm>
#include <cstddef>

#include "kernels/vec8.hpp"

namespace normlab::attention_tile {

using vec8::load8;
using vec8::store8;
using vec8::transpose;
using vec8::v8;

// Element (m, k) of A at p[m * rs + k * ks]: rs = ld, ks = 1 for A; rs = 1, ks = ld for A^T.
struct MatA {
  const float* p;
  ptrdiff_t rs, ks;
};
// Row k of B (N contiguous floats) at p + k * ld; row m of C at p + m * ld.
struct MatB {
  const float* p;
  ptrdiff_t ld;
};
struct MatC {
  float* p;
  ptrdiff_t ld;
};

// Optional per-row limits of a product, for the causal diagonal blocks: row m of C needs only the
// terms k in [k_begin[m], k_end[m]) (the others are exact zeros: masked probabilities) and only
// the columns [n_begin[m], n_end[m]) (the others are never read). A tile spans the union of its
// rows' ranges; null pointers mean no limit. Skipping exact-zero terms changes nothing but the
// sign of a zero sum; skipped columns keep whatever C held.
struct Limits {
  const int* k_begin = nullptr;
  const int* k_end = nullptr;
  const int* n_begin = nullptr;
  const int* n_end = nullptr;
};

// R rows x 8 NV columns of C at (m0, n0), terms k in [k0, k1).
template <bool Acc, int R, int NV>
inline void tile(MatC c, MatA a, MatB b, int m0, int n0, int k0, int k1, float alpha) {
  v8 acc[R][NV] = {};
  const float* ap = a.p + m0 * a.rs;
  const float* bp = b.p + n0;
  for (int k = k0; k < k1; ++k) {
    v8 bv[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) bv[j] = load8(bp + k * b.ld + 8 * j);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const float av = ap[r * a.rs + k * a.ks];
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[r][j] += av * bv[j];
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    float* cp = c.p + (m0 + r) * c.ld + n0;
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) {
      const v8 x = alpha * acc[r][j];
      store8(cp + 8 * j, Acc ? load8(cp + 8 * j) + x : x);
    }
  }
}

// Union of the ranges of rows [m, m + R).
struct TileRange {
  int k0, k1, n0, n1;
  TileRange(const Limits& lim, int m, int R, int K, int N) : k0(K), k1(0), n0(N), n1(0) {
    for (int r = m; r < m + R; ++r) {
      k0 = std::min(k0, lim.k_begin ? lim.k_begin[r] : 0);
      k1 = std::max(k1, lim.k_end ? lim.k_end[r] : K);
      n0 = std::min(n0, lim.n_begin ? lim.n_begin[r] : 0);
      n1 = std::max(n1, lim.n_end ? lim.n_end[r] : N);
    }
  }
};

template <bool Acc, int NV>
inline void tile_rows(MatC c, MatA a, MatB b, int M, int N, int n0, int K, float alpha,
                      const Limits& lim) {
  for (int m = 0; m < M; m += 6) {
    const int R = std::min(6, M - m);
    const TileRange tr(lim, m, R, K, N);
    if (n0 + 8 * NV <= tr.n0 || n0 >= tr.n1) continue;
    switch (R) {
      case 6:
        tile<Acc, 6, NV>(c, a, b, m, n0, tr.k0, tr.k1, alpha);
        break;
      case 5:
        tile<Acc, 5, NV>(c, a, b, m, n0, tr.k0, tr.k1, alpha);
        break;
      case 4:
        tile<Acc, 4, NV>(c, a, b, m, n0, tr.k0, tr.k1, alpha);
        break;
      case 3:
        tile<Acc, 3, NV>(c, a, b, m, n0, tr.k0, tr.k1, alpha);
        break;
      case 2:
        tile<Acc, 2, NV>(c, a, b, m, n0, tr.k0, tr.k1, alpha);
        break;
      default:
        tile<Acc, 1, NV>(c, a, b, m, n0, tr.k0, tr.k1, alpha);
        break;
    }
  }
}

// C[M, N] = alpha A[M, K] B[K, N]  (+ C if Acc), within the optional per-row limits.
template <bool Acc>
inline void gemm(MatC c, MatA a, MatB b, int M, int N, int K, float alpha,
                 const Limits& lim = Limits{}) {
  int n = 0;
  for (; n + 16 <= N; n += 16) tile_rows<Acc, 2>(c, a, b, M, N, n, K, alpha, lim);
  if (n + 8 <= N) {
    tile_rows<Acc, 1>(c, a, b, M, N, n, K, alpha, lim);
    n += 8;
  }
  for (; n < N; ++n) {  // narrow heads only (head width not a multiple of 8)
    for (int m = 0; m < M; ++m) {
      const TileRange tr(lim, m, 1, K, N);
      if (n < tr.n0 || n >= tr.n1) continue;
      float acc = 0.0f;
      for (int k = tr.k0; k < tr.k1; ++k) acc += a.p[m * a.rs + k * a.ks] * b.p[k * b.ld + n];
      float& out = c.p[m * c.ld + n];
      out = Acc ? out + alpha * acc : alpha * acc;
    }
  }
}

}  // namespace normlab::attention_tile
