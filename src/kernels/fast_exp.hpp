// Vectorizable elementary functions for the kernels' inner loops.
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>

namespace normlab {

// e^x for x <= 0 (softmax after max subtraction, tanh), written so that GCC vectorizes it without
// -ffast-math (libm's expf stays scalar and dominated the softmax at V = 8000 and GELU):
// e^x = 2^n e^r with n = round(x / ln 2), r = x - n ln 2 in [-ln2/2, ln2/2] (ln 2 split in a
// high part exact in float and a low correction, Cody-Waite), e^r by its degree-7 Taylor
// polynomial (remainder < 0.35^8 / 8! ~ 6e-9). Measured max relative error 8e-8 on [-87, 0].
// 2^n is assembled in the exponent bits; below -87 the result would be subnormal, return 0.
inline float exp_nonpositive(float x) {
  // Adding and subtracting 1.5 * 2^23 rounds to the nearest integer (|x / ln 2| < 2^22).
  const float n = (x * 1.44269504f + 12582912.0f) - 12582912.0f;
  const float r = (x - n * 0.693145751953125f) - n * 1.42860682030941723e-6f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const float two_n = std::bit_cast<float>((static_cast<int32_t>(n) + 127) << 23);
  const float e = p * two_n;
  return x < -87.0f ? 0.0f : e;
}

// tanh(u) = sign(u) (1 - e) / (1 + e), e = exp(-2|u|) <= 1: absolute error ~1e-7, vectorizable.
inline float fast_tanh(float u) {
  const float e = exp_nonpositive(-2.0f * std::fabs(u));
  const float t = (1.0f - e) / (1.0f + e);
  return u < 0 ? -t : t;
}

}  // namespace normlab
