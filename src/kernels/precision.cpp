#include "kernels/precision.hpp"

#include <omp.h>

#include <atomic>
#include <oneapi/dnnl/dnnl.hpp>
#include <stdexcept>

namespace normlab {
namespace {

std::atomic<Precision> g_precision{Precision::fp32};

// Conversions are memory-bound; below this many elements a parallel region costs more than it
// saves, and inside one (attention's per-head products) the calling thread works alone.
constexpr size_t kParallelMin = size_t{1} << 15;

}  // namespace

void set_matmul_precision(Precision p) {
  g_precision.store(p, std::memory_order_relaxed);
}
Precision matmul_precision() {
  return g_precision.load(std::memory_order_relaxed);
}

const char* precision_name(Precision p) {
  return p == Precision::bf16 ? "bf16" : "fp32";
}

std::string onednn_cpu_isa() {
  using dnnl::cpu_isa;
  switch (dnnl::get_effective_cpu_isa()) {
    case cpu_isa::sse41:
      return "sse41";
    case cpu_isa::avx:
      return "avx";
    case cpu_isa::avx2:
      return "avx2";
    case cpu_isa::avx2_vnni:
      return "avx2_vnni";
    case cpu_isa::avx512_mic:
      return "avx512_mic";
    case cpu_isa::avx512_mic_4ops:
      return "avx512_mic_4ops";
    case cpu_isa::avx512_core:
      return "avx512_core";
    case cpu_isa::avx512_core_vnni:
      return "avx512_core_vnni";
    case cpu_isa::avx512_core_bf16:
      return "avx512_core_bf16";
    case cpu_isa::avx512_core_amx:
      return "avx512_core_amx";
    default:
      return "unknown";
  }
}

bool native_bf16_matmul() {
  static const bool native = [] {
    // oneDNN's ISA values are bit sets, each a superset of the ones it extends: the CPU has bf16
    // dot products when its ISA contains every bit of avx512_core_bf16 (AMX does).
    const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
    const auto bf16_isa = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
    if ((isa & bf16_isa) != bf16_isa) return false;
    try {
      using dt = dnnl::memory::data_type;
      dnnl::engine engine(dnnl::engine::kind::cpu, 0);
      const dnnl::memory::dims shape{64, 64};
      dnnl::memory::desc a(shape, dt::bf16, dnnl::memory::dims{64, 1});
      dnnl::memory::desc c(shape, dt::f32, dnnl::memory::dims{64, 1});
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, a, c), engine);
      return std::string(pd.impl_info_str()).find("ref") == std::string::npos;
    } catch (const dnnl::error&) {
      return false;
    }
  }();
  return native;
}

PrecisionChoice resolve_precision(const std::string& option_value) {
  PrecisionChoice c;
  if (option_value == "fp32") return c;
  if (option_value != "auto" && option_value != "bf16")
    throw std::invalid_argument("precision: expected auto, bf16 or fp32, got '" + option_value +
                                "'");
  const bool native = native_bf16_matmul();
  if (option_value == "auto") {
    if (native) {
      c.precision = Precision::bf16;
    } else {
      c.note = "precision auto: this CPU has no bf16 matmul (oneDNN ISA " + onednn_cpu_isa() +
               "), training in fp32";
    }
    return c;
  }
  c.precision = Precision::bf16;
  if (!native) {
    c.emulated = true;
    c.note = "precision bf16: this CPU has no bf16 matmul (oneDNN ISA " + onednn_cpu_isa() +
             "); emulating it (inputs rounded to bf16, f32 arithmetic): same numerics, slower "
             "than fp32";
  }
  return c;
}

void convert_to_bf16(uint16_t* dst, const float* src, size_t n) {
  const long count = static_cast<long>(n);
#pragma omp parallel for schedule(static) if (n >= kParallelMin && !omp_in_parallel())
  for (long i = 0; i < count; ++i) dst[i] = bf16_bits(src[i]);
}

void round_to_bf16(float* dst, const float* src, size_t n) {
  const long count = static_cast<long>(n);
#pragma omp parallel for schedule(static) if (n >= kParallelMin && !omp_in_parallel())
  for (long i = 0; i < count; ++i) dst[i] = bf16_to_float(bf16_bits(src[i]));
}

}  // namespace normlab
