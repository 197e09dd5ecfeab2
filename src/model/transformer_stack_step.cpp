// Incremental decoding: `rows` new positions (one per hypothesis, all at position `pos`) against
// a KV cache. The step is the training forward's code (run_blocks, sublayer_forward in
// transformer_stack.cpp) in eval mode on T = 1 rows, with attention reading the keys and values
// of earlier positions (and of the encoded source) from the cache; so the output equals the full
// forward's at the same position (tests/model/test_kv_cache.cpp,
// tests/model/test_encoder_decoder.cpp). What is here: the step's buffers and the cache's
// bookkeeping.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "model/kv_cache.hpp"
#include "model/transformer_stack.hpp"

namespace normlab {

// The step's sublayers are copies of the stack's (the same recipes, norms and weights), planned
// by plan_sublayer for `rows` rows and, for cross-attention's keys and values, `memory_rows`
// encoder positions.
void TransformerStack::plan_step(StepBuffers& b, int rows, int memory_rows) const {
  const size_t R = rows, d = shape_.d, ff = shape_.d_ff;
  const size_t stats = std::max<size_t>(R, 1);
  MemoryPlan plan;
  b.sublayers = subs_;
  for (Sublayer& s : b.sublayers) plan_sublayer(s, plan, R, memory_rows);
  plan.want(&b.u, R * d), plan.want(&b.f, R * d), plan.want(&b.gelu, R * ff);
  plan.want(&b.dual, R * d), plan.want(&b.out.h, R * d), plan.want(&b.out.resi_n, R * d);
  plan.want(&b.out.sum, R * d);
  for (int k = 0; k < 3; ++k) plan.want(&b.out.mean[k], stats), plan.want(&b.out.rstd[k], stats);
  plan.want(&b.inner, R * std::max(d, ff));
  plan.allocate(b.arena);
}

// Cross-attention's keys and values of every source, computed as the training forward does
// (memory_keys_values), into the cache: once per batch of sources.
void TransformerStack::set_memory(KVCache& cache, const float* memory, const int32_t* memory_len,
                                  int sources, int S) const {
  if (sources > cache.sources() || S > cache.memory_capacity())
    throw std::logic_error("set_memory: cache too small for the sources");
  const int d = shape_.d, rows = sources * S;
  cache.memory_S = S;
  std::copy(memory_len, memory_len + sources, cache.memory_len.begin());
  for (const Sublayer& s : cache.scratch.stack.sublayers) {
    if (s.kind != SublayerKind::CrossAttention) continue;
    QKVSource src = qkv_source(s, 0, rows);
    memory_keys_values(s, memory, src);
    float* dst[3] = {nullptr, cache.memory_keys(s.layer - 1), cache.memory_values(s.layer - 1)};
    for (int part = 1; part < 3; ++part)
      for (int r = 0; r < rows; ++r) {
        const float* row = src.base[part] + static_cast<size_t>(r) * src.stride[part];
        std::copy(row, row + d, dst[part] + static_cast<size_t>(r) * d);
      }
  }
}

const float* TransformerStack::step(const float* x0, int rows, int pos, KVCache& cache) const {
  if (rows > cache.rows() || pos < 0 || pos > cache.length() || pos >= cache.capacity())
    throw std::logic_error("step: position " + std::to_string(pos) +
                           " not appendable to a cache of length " +
                           std::to_string(cache.length()));
  StepBuffers& b = cache.scratch.stack;
  Pass pass;
  pass.rows = rows, pass.B = rows, pass.T = 1;
  pass.cache = &cache, pass.pos = pos;
  pass.u = b.u, pass.f = b.f, pass.gelu = b.gelu, pass.dual = b.dual, pass.inner = b.inner;
  const float* x = run_blocks(pass, x0, b.sublayers);
  cache.set_length(pos + 1);
  stack_output(b.out, x, b.dual, rows);
  return b.out.h;
}

}  // namespace normlab
