// Eight-float vectors written with GCC vector extensions (also understood by Clang), which compile
// to AVX2 (or AVX-512 lower halves) without intrinsics, and the register transpose built on them:
// shared by the attention tiles (attention_tile.hpp) and the linear layer's transposed operands
// (linear.cpp).
#pragma once
#include <cstddef>

namespace normlab::vec8 {

typedef float v8 __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4), may_alias));

inline v8 load8(const float* p) {
  return *reinterpret_cast<const v8u*>(p);
}
inline void store8(float* p, v8 x) {
  *reinterpret_cast<v8u*>(p) = x;
}

// dst[c * ldd + j] = alpha * src[j * lds + c] for j < rows, c < cols: 8 x 8 blocks in registers
// (unpack, shuffle, lane permute: 24 shuffles for 64 floats instead of 64 scalar stores at a
// stride), scalar at the edges.
inline void transpose8x8(float* dst, ptrdiff_t ldd, const float* src, ptrdiff_t lds, float alpha) {
  v8 r[8], t[8], u[8];
  for (int i = 0; i < 8; ++i) r[i] = load8(src + i * lds);
  for (int i = 0; i < 8; i += 2) {
    t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
    t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
  }
  for (int i = 0; i < 8; i += 4) {
    u[i] = __builtin_shufflevector(t[i], t[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
    u[i + 1] = __builtin_shufflevector(t[i], t[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
    u[i + 2] = __builtin_shufflevector(t[i + 1], t[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
    u[i + 3] = __builtin_shufflevector(t[i + 1], t[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
  }
  for (int i = 0; i < 4; ++i) {
    store8(dst + i * ldd,
           alpha * __builtin_shufflevector(u[i], u[i + 4], 0, 1, 2, 3, 8, 9, 10, 11));
    store8(dst + (i + 4) * ldd,
           alpha * __builtin_shufflevector(u[i], u[i + 4], 4, 5, 6, 7, 12, 13, 14, 15));
  }
}

inline void transpose(float* dst, ptrdiff_t ldd, const float* src, ptrdiff_t lds, int rows,
                      int cols, float alpha) {
  int j = 0;
  for (; j + 8 <= rows; j += 8) {
    int c = 0;
    for (; c + 8 <= cols; c += 8)
      transpose8x8(dst + c * ldd + j, ldd, src + j * lds + c, lds, alpha);
    for (; c < cols; ++c) {
      for (int i = 0; i < 8; ++i) dst[c * ldd + j + i] = alpha * src[(j + i) * lds + c];
    }
  }
  for (; j < rows; ++j) {
    for (int c = 0; c < cols; ++c) dst[c * ldd + j] = alpha * src[j * lds + c];
  }
}

}  // namespace normlab::vec8
