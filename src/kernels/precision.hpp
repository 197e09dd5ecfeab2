// Arithmetic precision of the dense products (linear layers and matmul()), process-wide.
//
// bf16 mode is mixed precision in the usual sense (Micikevicius et al. 2018; Kalamkar et al. 2019
// for bfloat16): the two inputs of every product are rounded to bfloat16 (8 exponent bits, 8
// significand bits), products are accumulated in f32 and written as f32. Everything else stays
// f32: master weights, gradients and optimizer state (callers keep float* buffers), and the
// statistics of norms, softmax and the loss, which never go through these products.
//
// On a CPU with bf16 dot-product instructions (AVX512_BF16, AMX; oneDNN ISA avx512_core_bf16 or
// higher) the product runs in oneDNN's bf16 kernels. Elsewhere bf16 mode is *emulated*: the inputs
// are rounded to bf16 values held in f32 and the product runs in f32. The result is the same up to
// summation order (a product of two bf16 numbers is exact in f32), so the numerics can be checked
// on any CPU, but it is slower than fp32; the trainer only picks bf16 by itself where it is native.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>

namespace normlab {

enum class Precision { fp32, bf16 };

// The default is fp32 until someone sets it (the trainer does, from the `precision` option).
void set_matmul_precision(Precision p);
Precision matmul_precision();

// Sets a precision for a scope and restores the previous one on exit.
class ScopedMatmulPrecision {
 public:
  explicit ScopedMatmulPrecision(Precision p) : previous_(matmul_precision()) {
    set_matmul_precision(p);
  }
  ~ScopedMatmulPrecision() { set_matmul_precision(previous_); }
  ScopedMatmulPrecision(const ScopedMatmulPrecision&) = delete;
  ScopedMatmulPrecision& operator=(const ScopedMatmulPrecision&) = delete;

 private:
  Precision previous_;
};

// True when oneDNN, on this CPU, runs bf16 matmuls in native bf16 kernels (checked once, at run
// time: the ISA oneDNN dispatches to, which honours DNNL_MAX_CPU_ISA, and the implementation it
// picks for a bf16 product is not its reference loop).
bool native_bf16_matmul();
// The ISA oneDNN dispatches to, e.g. "avx512_core_amx", "avx2".
std::string onednn_cpu_isa();

// The `precision` option (auto|bf16|fp32) resolved on this CPU. `note` is a one-line message for
// stderr, empty when there is nothing to say: auto falling back to fp32, or bf16 being emulated.
struct PrecisionChoice {
  Precision precision = Precision::fp32;
  bool emulated = false;
  std::string note;
};
PrecisionChoice resolve_precision(const std::string& option_value);
const char* precision_name(Precision p);

// Round to nearest even, f32 -> bf16 bits (NaN stays NaN). dst may not alias src.
void convert_to_bf16(uint16_t* dst, const float* src, size_t n);
// The same rounding, kept in f32 (low 16 bits zero): the emulated bf16 path. dst may equal src.
void round_to_bf16(float* dst, const float* src, size_t n);

inline uint16_t bf16_bits(float x) {
  const uint32_t u = std::bit_cast<uint32_t>(x);
  // Round to nearest, ties to even: add 0x7FFF plus the lowest kept bit, then truncate. A NaN
  // could carry into the infinity pattern, so force its quiet bit instead.
  const uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
  const bool nan = (u & 0x7FFFFFFFu) > 0x7F800000u;
  return static_cast<uint16_t>(nan ? ((u >> 16) | 0x40u) : rounded);
}

inline float bf16_to_float(uint16_t b) {
  return std::bit_cast<float>(static_cast<uint32_t>(b) << 16);
}

}  // namespace normlab
