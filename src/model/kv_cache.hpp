// Key/value cache for incremental decoding (TransformerStack::step). For `rows` hypotheses
// decoded in lockstep it keeps, per self-attention layer, K and V of every position decoded so
// far, exactly as the attention consumed them (after the per-head q/k/v norms of the 'q' recipe
// letter). A decoder's cache also holds, per cross-attention layer, K and V of the encoded
// sources (set_memory), which every row of that source reads. It owns the scratch of one step,
// sized once, so that decoding a token allocates nothing.
#pragma once
#include <cstdint>
#include <vector>

#include "model/transformer_stack.hpp"

namespace normlab {

class DecoderLM;

class KVCache {
 public:
  // Sized for `stack`: `rows` rows of up to `capacity` positions; cross-attention memory of up
  // to `sources` sentences of up to `memory_capacity` positions. `vocab` sizes the logits.
  KVCache(const TransformerStack& stack, int rows, int capacity, int vocab, int sources = 0,
          int memory_capacity = 0);
  // One row for a decoder-only LM, up to seq_len positions.
  explicit KVCache(const DecoderLM& model);
  // The step's buffers point into the cache's own memory.
  KVCache(const KVCache&) = delete;
  KVCache& operator=(const KVCache&) = delete;

  // Forget every position (the buffers stay allocated).
  void clear() { length_ = 0; }
  // Empty, with `rows` rows (at most the constructor's).
  void restart(int rows) {
    rows_ = rows;
    length_ = 0;
  }
  // Positions currently held: a step may write position length() (append) or any earlier one
  // (rewind; later positions are dropped).
  int length() const { return length_; }
  int capacity() const { return capacity_; }
  int rows() const { return rows_; }
  void set_length(int n) { length_ = n; }
  // Row r of the next step continues old row parent[r] (K/V and source); rows may shrink.
  void reorder(const int32_t* parent, int rows);

  // [rows, capacity, d] of self-attention layer `layer` (0-based); head h is columns
  // [h*hd, (h+1)*hd).
  float* keys(int layer) { return k_[static_cast<size_t>(layer)].data(); }
  float* values(int layer) { return v_[static_cast<size_t>(layer)].data(); }
  // Cross-attention: [sources, memory_S, d] per layer, memory_len per source, and the source of
  // every row.
  float* memory_keys(int layer) { return mk_[static_cast<size_t>(layer)].data(); }
  float* memory_values(int layer) { return mv_[static_cast<size_t>(layer)].data(); }
  int memory_capacity() const { return memory_capacity_; }
  int sources() const { return sources_; }
  int memory_S = 0;
  std::vector<int32_t> memory_len, row_source;

  // One step's buffers for every row, sized once (contents meaningless between calls): the
  // model's embedding of the new tokens and their logits, and the stack's (plan_step).
  struct Scratch {
    std::vector<float> x0;      // [rows, d]
    std::vector<float> logits;  // [rows, vocab]
    StepBuffers stack;
  } scratch;

 private:
  int rows_ = 0, capacity_ = 0, length_ = 0, sources_ = 0, memory_capacity_ = 0;
  size_t d_ = 0;
  std::vector<std::vector<float>> k_, v_, mk_, mv_;
  std::vector<float> gather_;  // reorder's staging copy
};

}  // namespace normlab
