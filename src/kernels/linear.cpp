// Dense products on oneDNN matmul. One primitive per (shape, thread count, transposes, bias,
// alpha, beta) is created on first use and cached per thread: oneDNN's default build
// (DNNL_ENABLE_CONCURRENT_EXEC=OFF) does not let a primitive run on a thread other than the one
// that created it, so each thread owns its primitives together with a user-mode scratchpad. The
// user's buffers are wrapped in place (set_data_handle) and transposes are expressed as strides, so
// no call copies or allocates once its shape has been seen.
#include "kernels/linear.hpp"

#include <omp.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <oneapi/dnnl/dnnl.hpp>
#include <stdexcept>
#include <string>
#include <tuple>
#include <unordered_map>

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
  uint32_t alpha_bits, beta_bits;  // bit patterns: the key must compare exactly
  bool operator==(const MatmulKey& o) const {
    return std::tie(M, N, K, threads, trans_a, trans_b, has_bias, alpha_bits, beta_bits) ==
           std::tie(o.M, o.N, o.K, o.threads, o.trans_a, o.trans_b, o.has_bias, o.alpha_bits,
                    o.beta_bits);
  }
};

struct MatmulKeyHash {
  size_t operator()(const MatmulKey& k) const {
    uint64_t h = static_cast<uint64_t>(k.M);
    for (uint64_t v :
         {static_cast<uint64_t>(k.N), static_cast<uint64_t>(k.K), static_cast<uint64_t>(k.threads),
          static_cast<uint64_t>(k.trans_a | (k.trans_b << 1) | (k.has_bias << 2)),
          static_cast<uint64_t>(k.alpha_bits), static_cast<uint64_t>(k.beta_bits)}) {
      h = (h ^ v) * 0x100000001B3ull + 0x9E3779B97F4A7C15ull;
    }
    return static_cast<size_t>(h);
  }
};

struct MatmulPlan {
  dnnl::matmul prim;
  memory a, b, bias, c, scratch;         // a, b, bias, c get the caller's pointers on every call
  std::unordered_map<int, memory> args;  // shares the memory objects above
};

// Row-major [rows, cols] matrix stored either as is or transposed ([cols, rows] in memory).
memory::desc matrix_desc(int rows, int cols, bool transposed) {
  memory::dims strides = transposed ? memory::dims{1, rows} : memory::dims{cols, 1};
  return memory::desc({rows, cols}, memory::data_type::f32, strides);
}

MatmulPlan make_plan(const MatmulKey& key, float alpha, float beta) {
  auto& engine = cpu_engine();
  memory::desc a_md = matrix_desc(key.M, key.K, key.trans_a);
  memory::desc b_md = matrix_desc(key.K, key.N, key.trans_b);
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

  MatmulPlan plan;
  plan.prim = dnnl::matmul(pd);
  plan.a = memory(a_md, engine, nullptr);
  plan.b = memory(b_md, engine, nullptr);
  plan.c = memory(c_md, engine, nullptr);
  if (key.has_bias) plan.bias = memory(bias_md, engine, nullptr);
  plan.scratch = memory(pd.scratchpad_desc(), engine);
  plan.args = {{DNNL_ARG_SRC, plan.a},
               {DNNL_ARG_WEIGHTS, plan.b},
               {DNNL_ARG_DST, plan.c},
               {DNNL_ARG_SCRATCHPAD, plan.scratch}};
  if (key.has_bias) plan.args.emplace(DNNL_ARG_BIAS, plan.bias);
  return plan;
}

// C = alpha * (op(A) op(B) + bias_row) + beta * C, bias broadcast over rows (may be nullptr).
void matmul_impl(float* C, const float* A, const float* B, const float* bias, int M, int N, int K,
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
  // Inside an OpenMP parallel region (e.g. attention's per-head products) oneDNN runs on the
  // calling thread alone.
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  MatmulKey key{M,
                N,
                K,
                threads,
                trans_a,
                trans_b,
                bias != nullptr,
                std::bit_cast<uint32_t>(alpha),
                std::bit_cast<uint32_t>(beta)};
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, make_plan(key, alpha, beta)).first;
  MatmulPlan& plan = it->second;

  plan.a.set_data_handle(const_cast<float*>(A));
  plan.b.set_data_handle(const_cast<float*>(B));
  plan.c.set_data_handle(C);
  if (bias) plan.bias.set_data_handle(const_cast<float*>(bias));
  plan.prim.execute(stream, plan.args);
  stream.wait();
}

}  // namespace

void matmul(float* C, const float* A, const float* B, int M, int N, int K, bool trans_a,
            bool trans_b, float alpha, float beta) {
  matmul_impl(C, A, B, nullptr, M, N, K, trans_a, trans_b, alpha, beta);
}

void linear_forward(float* out, const float* in, const float* weight, const float* bias, int N,
                    int in_dim, int out_dim) {
  // y[N, out] = x[N, in] W[out, in]^T + b
  matmul_impl(out, in, weight, bias, N, out_dim, in_dim, false, true, 1.0f, 0.0f);
}

void linear_backward(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                     const float* weight, int N, int in_dim, int out_dim) {
  // dx[N, in] += dy[N, out] W[out, in];  dW[out, in] += dy[N, out]^T x[N, in].
  // A null gradient pointer means the caller does not need that gradient.
  if (din) matmul(din, dout, weight, N, in_dim, out_dim, false, false, 1.0f, 1.0f);
  if (dweight) matmul(dweight, dout, in, out_dim, in_dim, N, true, false, 1.0f, 1.0f);
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
