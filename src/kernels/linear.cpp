// Dense products on oneDNN matmul. One primitive per (shape, thread count, transposes, bias,
// precision, alpha, beta) is created on first use and cached per thread: oneDNN's default build
// (DNNL_ENABLE_CONCURRENT_EXEC=OFF) does not let a primitive run on a thread other than the one
// that created it, so each thread owns its primitives together with a user-mode scratchpad. The
// user's buffers are wrapped in place (set_data_handle) and transposes are expressed as strides, so
// no call copies or allocates once its shape has been seen.
//
// In bf16 mode (kernels/precision.hpp) both inputs are first converted into per-thread bf16
// scratch buffers (grown to the largest shape seen, then reused) and the primitive takes bf16
// inputs with f32 accumulation, bias and output, so every caller keeps its f32 buffers. Where the
// CPU has no bf16 kernels the inputs are rounded to bf16 in f32 scratch and the f32 primitive
// runs instead (emulation).
#include "kernels/linear.hpp"

#include <omp.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <oneapi/dnnl/dnnl.hpp>
#include <stdexcept>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "kernels/precision.hpp"
#include "kernels/vec8.hpp"

namespace normlab {
namespace {

using dnnl::memory;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

struct MatmulKey {
  int M, N, K;
  int threads;  // oneDNN fixes its work partitioning for the thread count seen at creation
  bool trans_a, trans_b, has_bias;
  bool bf16;                       // native bf16 inputs (the emulated path uses the f32 plan)
  uint32_t alpha_bits, beta_bits;  // bit patterns: the key must compare exactly
  bool operator==(const MatmulKey& o) const {
    return std::tie(M, N, K, threads, trans_a, trans_b, has_bias, bf16, alpha_bits, beta_bits) ==
           std::tie(o.M, o.N, o.K, o.threads, o.trans_a, o.trans_b, o.has_bias, o.bf16,
                    o.alpha_bits, o.beta_bits);
  }
};

struct MatmulKeyHash {
  size_t operator()(const MatmulKey& k) const {
    uint64_t h = static_cast<uint64_t>(k.M);
    for (uint64_t v :
         {static_cast<uint64_t>(k.N), static_cast<uint64_t>(k.K), static_cast<uint64_t>(k.threads),
          static_cast<uint64_t>(k.trans_a | (k.trans_b << 1) | (k.has_bias << 2) | (k.bf16 << 3)),
          static_cast<uint64_t>(k.alpha_bits), static_cast<uint64_t>(k.beta_bits)}) {
      h = (h ^ v) * 0x100000001B3ull + 0x9E3779B97F4A7C15ull;
    }
    return static_cast<size_t>(h);
  }
};

struct MatmulPlan {
  dnnl::matmul prim;
  bool bf16_inputs = false;       // false for a bf16 key whose bf16 kernel is oneDNN's ref
  memory a, b, bias, c, scratch;  // a, b, bias, c get the caller's pointers on every call
  // The arguments in the C API's form, built once: the C++ execute() would rebuild this array
  // from a map on every call, a heap allocation per product.
  std::vector<dnnl_exec_arg_t> args;
};

// Row-major [rows, cols] matrix stored either as is or transposed ([cols, rows] in memory).
memory::desc matrix_desc(int rows, int cols, bool transposed,
                         memory::data_type type = memory::data_type::f32) {
  memory::dims strides = transposed ? memory::dims{1, rows} : memory::dims{cols, 1};
  return memory::desc({rows, cols}, type, strides);
}

MatmulPlan make_plan(const MatmulKey& key, float alpha, float beta, bool bf16_inputs) {
  auto& engine = cpu_engine();
  const auto in_type = bf16_inputs ? memory::data_type::bf16 : memory::data_type::f32;
  memory::desc a_md = matrix_desc(key.M, key.K, key.trans_a, in_type);
  memory::desc b_md = matrix_desc(key.K, key.N, key.trans_b, in_type);
  memory::desc c_md = matrix_desc(key.M, key.N, false);
  memory::desc bias_md({1, key.N}, memory::data_type::f32, memory::dims{key.N, 1});

  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  // Output scales multiply the product before post-ops; the sum post-op then adds beta * (old C):
  // C = alpha * A B + beta * C (oneDNN dev guide, "Primitive Attributes: Post-ops"). Bias only
  // comes from linear_forward, where alpha = 1, so the order of scale and bias is moot.
  if (alpha != 1.0f) attr.set_output_scales(0, {alpha});
  if (beta != 0.0f) {
    dnnl::post_ops ops;
    ops.append_sum(beta);
    attr.set_post_ops(ops);
  }
  auto desc = key.has_bias ? dnnl::matmul::desc(a_md, b_md, bias_md, c_md)
                           : dnnl::matmul::desc(a_md, b_md, c_md);
  dnnl::matmul::primitive_desc pd(desc, attr, engine);
  if (bf16_inputs && std::string(pd.impl_info_str()).find("ref") != std::string::npos) {
    // oneDNN's reference loop would be orders of magnitude slower than f32: emulate instead.
    std::fprintf(stderr,
                 "normlab: oneDNN has no fast bf16 matmul for M=%d N=%d K=%d trans_a=%d "
                 "trans_b=%d; emulating bf16 in f32 for this shape\n",
                 key.M, key.N, key.K, key.trans_a, key.trans_b);
    return make_plan(key, alpha, beta, false);
  }

  MatmulPlan plan;
  plan.bf16_inputs = bf16_inputs;
  plan.prim = dnnl::matmul(pd);
  plan.a = memory(a_md, engine, nullptr);
  plan.b = memory(b_md, engine, nullptr);
  plan.c = memory(c_md, engine, nullptr);
  if (key.has_bias) plan.bias = memory(bias_md, engine, nullptr);
  plan.scratch = memory(pd.scratchpad_desc(), engine);
  plan.args = {{DNNL_ARG_SRC, plan.a.get()},
               {DNNL_ARG_WEIGHTS, plan.b.get()},
               {DNNL_ARG_DST, plan.c.get()},
               {DNNL_ARG_SCRATCHPAD, plan.scratch.get()}};
  if (key.has_bias) plan.args.push_back({DNNL_ARG_BIAS, plan.bias.get()});
  return plan;
}

// A matmul input: its f32 values, and optionally the same values already converted for bf16 mode
// (bf16 bits, or bf16 values in f32 for the emulation), so an operand used twice is converted once.
struct Operand {
  const float* f32;
  const void* ready = nullptr;
  bool ready_is_bits = false;
};

// Per-thread conversion buffers, grown to the largest operand seen and then reused.
struct Scratch {
  std::vector<uint16_t> bits;
  std::vector<float> rounded;
  const void* convert(const float* x, size_t n, bool to_bits) {
    if (to_bits) {
      if (bits.size() < n) bits.resize(n);
      convert_to_bf16(bits.data(), x, n);
      return bits.data();
    }
    if (rounded.size() < n) rounded.resize(n);
    round_to_bf16(rounded.data(), x, n);
    return rounded.data();
  }
};

// Below AVX-512, oneDNN 2.6's f32 matmul is its jit sgemm (gemm:jit), which packs a transposed A
// [K, M] 2-2.5x slower when its leading dimension M is a multiple of 512 floats (2 KiB: the
// strided reads alias in the cache). Measured on an AVX2 EPYC, 1 thread, dW[M, 256] += dy^T x over
// 2048 tokens: M = 512, 1024, 2048 at 12.8, 7.6, 7.8 GFLOP/s against 24.5, 18.3, 14.2 with A
// stored plain, while M = 544, 992, 1056, 2080 run at full speed either way. fc1's weight gradient
// (d_ff = 1024) has this shape: transposing A first costs one pass over it. (Transposing every A
// on AVX2 was tried: the products gained 3 %, the step lost it to the transposes.) With AVX-512 the
// matmul is brgemm, with its own copy routines: left alone.
bool transpose_a_first(bool trans_a, int M) {
  static const bool gemm_jit = [] {
    const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
    const auto avx512 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core);
    return (isa & avx512) != avx512;
  }();
  return gemm_jit && trans_a && M % 512 == 0;
}

// dst[c, r] = src[r, c] for src [rows, cols], by 32 x 32 tiles of 8 x 8 register transposes (with
// power-of-two leading dimensions, scalar strided stores alias in the cache and took 3.3 ns per
// element); rounded to bf16 values on the way when `round` (the emulated bf16 path).
void transpose(float* dst, const float* src, int rows, int cols, bool round) {
  constexpr int kTile = 32;
  const int row_tiles = (rows + kTile - 1) / kTile;
  const bool parallel = static_cast<size_t>(rows) * cols >= (size_t{1} << 15) && !omp_in_parallel();
#pragma omp parallel for schedule(static) if (parallel)
  for (int rt = 0; rt < row_tiles; ++rt) {
    const int r0 = rt * kTile, r1 = std::min(rows, r0 + kTile);
    for (int c0 = 0; c0 < cols; c0 += kTile) {
      const int c1 = std::min(cols, c0 + kTile);
      float* tile = dst + static_cast<size_t>(c0) * rows + r0;
      vec8::transpose(tile, rows, src + static_cast<size_t>(r0) * cols + c0, cols, r1 - r0, c1 - c0,
                      1.0f);
      if (!round) continue;
      for (int c = 0; c < c1 - c0; ++c)
        for (int r = 0; r < r1 - r0; ++r) {
          float& v = tile[static_cast<size_t>(c) * rows + r];
          v = bf16_to_float(bf16_bits(v));
        }
    }
  }
}

// C = alpha * (op(A) op(B) + bias_row) + beta * C, bias broadcast over rows (may be nullptr).
void matmul_impl(float* C, Operand Aop, Operand Bop, const float* bias, int M, int N, int K,
                 bool trans_a, bool trans_b, float alpha, float beta) {
  if (M < 0 || N < 0 || K < 0) {
    throw std::invalid_argument("matmul: negative dimension M=" + std::to_string(M) +
                                " N=" + std::to_string(N) + " K=" + std::to_string(K));
  }
  if (M == 0 || N == 0) return;
  if (K == 0) {  // empty product: only the bias and the beta term remain
    for (int i = 0; i < M; ++i) {
      for (int j = 0; j < N; ++j) {
        float prev = beta == 0.0f ? 0.0f : beta * C[static_cast<size_t>(i) * N + j];
        C[static_cast<size_t>(i) * N + j] = alpha * (bias ? bias[j] : 0.0f) + prev;
      }
    }
    return;
  }

  thread_local std::unordered_map<MatmulKey, MatmulPlan, MatmulKeyHash> cache;
  thread_local dnnl::stream stream(cpu_engine());
  // Inside an OpenMP parallel region (a caller's per-head products, say) oneDNN runs on the
  // calling thread alone.
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  const bool bf16 = matmul_precision() == Precision::bf16;
  if (transpose_a_first(trans_a, M)) {
    // Only where bf16 cannot be native (below AVX-512): the emulation rounds while transposing.
    thread_local std::vector<float> a_plain;
    if (a_plain.size() < static_cast<size_t>(M) * K) a_plain.resize(static_cast<size_t>(M) * K);
    transpose(a_plain.data(), Aop.f32, K, M, bf16);
    Aop = Operand{a_plain.data(), bf16 ? a_plain.data() : nullptr, false};
    trans_a = false;
  }
  MatmulKey key{M,
                N,
                K,
                threads,
                trans_a,
                trans_b,
                bias != nullptr,
                bf16 && native_bf16_matmul(),
                std::bit_cast<uint32_t>(alpha),
                std::bit_cast<uint32_t>(beta)};
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, make_plan(key, alpha, beta, key.bf16)).first;
  MatmulPlan& plan = it->second;

  // In bf16 mode the inputs are bf16 bits for a native plan, bf16 values in f32 otherwise
  // (emulation, or a shape whose bf16 kernel would have been oneDNN's reference loop).
  thread_local Scratch a_scratch, b_scratch;
  auto bind = [&](memory& m, const Operand& op, size_t n, Scratch& scratch) {
    const void* data = op.f32;
    if (bf16) {
      data = op.ready && op.ready_is_bits == plan.bf16_inputs
                 ? op.ready
                 : scratch.convert(op.f32, n, plan.bf16_inputs);
    }
    m.set_data_handle(const_cast<void*>(data));
  };
  bind(plan.a, Aop, static_cast<size_t>(M) * K, a_scratch);
  bind(plan.b, Bop, static_cast<size_t>(K) * N, b_scratch);
  plan.c.set_data_handle(C);
  if (bias) plan.bias.set_data_handle(const_cast<float*>(bias));
  const dnnl_status_t status = dnnl_primitive_execute(
      plan.prim.get(), stream.get(), static_cast<int>(plan.args.size()), plan.args.data());
  if (status != dnnl_success)
    throw std::runtime_error("matmul: oneDNN execution failed (status " + std::to_string(status) +
                             ")");
  stream.wait();
}

}  // namespace

void matmul(float* C, const float* A, const float* B, int M, int N, int K, bool trans_a,
            bool trans_b, float alpha, float beta) {
  matmul_impl(C, {A}, {B}, nullptr, M, N, K, trans_a, trans_b, alpha, beta);
}

void linear_forward(float* out, const float* in, const float* weight, const float* bias, int N,
                    int in_dim, int out_dim) {
  // y[N, out] = x[N, in] W[out, in]^T + b
  matmul_impl(out, {in}, {weight}, bias, N, out_dim, in_dim, false, true, 1.0f, 0.0f);
}

void linear_backward(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                     const float* weight, int N, int in_dim, int out_dim) {
  // dx[N, in] = dy[N, out] W[out, in];  dW[out, in] += dy[N, out]^T x[N, in].
  // A null gradient pointer means the caller does not need that gradient. In bf16 mode dy enters
  // both products: convert it once.
  Operand dy{dout};
  if (din && dweight && matmul_precision() == Precision::bf16) {
    thread_local Scratch dy_scratch;
    dy.ready_is_bits = native_bf16_matmul();
    dy.ready = dy_scratch.convert(dout, static_cast<size_t>(N) * out_dim, dy.ready_is_bits);
  }
  if (din) matmul_impl(din, dy, {weight}, nullptr, N, in_dim, out_dim, false, false, 1.0f, 0.0f);
  if (dweight) matmul_impl(dweight, dy, {in}, nullptr, out_dim, in_dim, N, true, false, 1.0f, 1.0f);
  if (!dbias || N == 0) return;
  // db[j] += sum_i dy[i, j]: each column block is summed over rows in order by one thread, so the
  // result does not depend on the thread count; rows stream contiguously within a block.
  constexpr int kBlock = 64;
  const int blocks = (out_dim + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static)
  for (int blk = 0; blk < blocks; ++blk) {
    const int j0 = blk * kBlock;
    const int width = std::min(kBlock, out_dim - j0);
    double acc[kBlock] = {};
    for (int i = 0; i < N; ++i) {
      const float* row = dout + static_cast<size_t>(i) * out_dim + j0;
      for (int j = 0; j < width; ++j) acc[j] += row[j];
    }
    for (int j = 0; j < width; ++j) dbias[j0 + j] += static_cast<float>(acc[j]);
  }
}

}  // namespace normlab
