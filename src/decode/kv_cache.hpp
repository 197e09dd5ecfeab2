// Key/value cache for incremental decoding (DecoderLM::forward_next). Per attention layer it
// keeps K and V of every position decoded so far, exactly as the attention consumed them (after
// the per-head q/k/v norms of the 'q' recipe letter), for up to seq_len positions. It also owns
// the single-position scratch of forward_next, sized once from the model so that decoding a token
// allocates nothing.
#pragma once
#include <vector>

#include "model/decoder_lm.hpp"

namespace normlab {

class KVCache {
 public:
  // Sized for `model`'s shape and wiring; the cache starts empty.
  explicit KVCache(const DecoderLM& model);

  // Forget every position (the buffers stay allocated).
  void clear() { length_ = 0; }
  // Positions currently held: forward_next may write position length() (append) or any earlier
  // one (rewind; later positions are dropped).
  int length() const { return length_; }
  int capacity() const { return capacity_; }
  void set_length(int n) { length_ = n; }

  // [capacity, d] rows of layer `layer` (0-based); head h is columns [h*hd, (h+1)*hd).
  float* keys(int layer) { return k_[static_cast<size_t>(layer)].data(); }
  float* values(int layer) { return v_[static_cast<size_t>(layer)].data(); }

  // One position's activations, reused by every token (contents meaningless between calls).
  struct Scratch {
    std::vector<float> x0, dual, xs, un, us, qkv, qkv_n, q_raw, o, h1, g, f_out, h, resi_n;
    std::vector<float> mean, rstd;  // one per normalised row: up to n_heads rows (q/k/v norms)
    std::vector<float> scores;      // attention weights over up to seq_len positions
    std::vector<float> logits;
    // post[i][j]: output of POST op j of sublayer i (own buffer each, so that x_block and the
    // residual's input are never overwritten while still needed).
    std::vector<std::vector<std::vector<float>>> post;
  } scratch;

 private:
  int capacity_ = 0, length_ = 0;
  std::vector<std::vector<float>> k_, v_;
};

}  // namespace normlab
