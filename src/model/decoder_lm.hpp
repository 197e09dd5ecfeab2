// GPT-style decoder-only language model: the tied token embedding (model.hpp), one causal
// TransformerStack wired by the config's block description, and the label-smoothed loss over
// the tied output projection. All activation memory is planned once for a (batch, sequence)
// shape.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/model.hpp"

namespace normlab {

class KVCache;  // model/kv_cache.hpp

class DecoderLM : public Model {
 public:
  // Builds the parameter layout from the config (no activation memory yet).
  explicit DecoderLM(const Config& config);

  // Plans and allocates activation and gradient scratch for batches up to B x T.
  void plan(int B, int T);

  // Forward; with targets, returns the mean cross-entropy (label smoothing eps), else 0 and
  // leaves logits for every position in logits().
  double forward(const int32_t* tokens, const int32_t* targets, int B, int T, float smoothing = 0);
  void backward() override;
  // Incremental decoding: the logits [vocab] of one new position `pos` (<= cache.length(),
  // < seq_len) holding `token`, attending to the cache's positions [0, pos) and itself; appends
  // its K and V to the cache. Inference only (no dropout); same recipe semantics as forward().
  // The pointer is into the cache's scratch (valid until the next call).
  const float* forward_next(int32_t token, int pos, KVCache& cache);

  std::vector<const TransformerStack*> stacks() const override { return {&stack_}; }
  std::vector<std::string> stack_prefixes() const override { return {""}; }
  const TransformerStack& stack() const { return stack_; }
  const std::vector<Sublayer>& sublayers() const { return stack_.sublayers(); }
  const std::vector<double>& grad_block_input() const { return stack_.grad_block_input(); }
  // The stack's last hidden state x_L (before any final norm) of the last forward.
  const float* stack_output() const { return stack_.top(); }
  int batch() const { return B_; }
  int seq() const { return T_; }

 private:
  long pos_emb_ = -1;
  TransformerStack stack_;
  int plan_B_ = 0, plan_T_ = 0;
  int B_ = 0, T_ = 0;
  std::vector<int32_t> tokens_;
  float *x0_ = nullptr, *x0d_ = nullptr, *g_x0_ = nullptr, *g_drop_ = nullptr;
};

}  // namespace normlab
