// Transformer encoder–decoder (Vaswani et al. 2017) for translation and summarization: an
// encoder stack (self-attention over the source, padding masked), a decoder stack (causal
// self-attention, cross-attention to the encoder output, MLP), both wired by the same block
// description with their own depths, and one token embedding shared by the encoder input, the
// decoder input and the output projection (fairseq's share_all_embeddings).
// docs/encoder-decoder.md gives the equations, parameter names and batch layout.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/model.hpp"

namespace normlab {

class KVCache;  // model/kv_cache.hpp

class EncoderDecoder : public Model {
 public:
  explicit EncoderDecoder(const Config& config);

  // Plans activation and gradient scratch for batches of up to B rows, S source and T target
  // positions, and at most src_cells = B*S and tgt_cells = B*T positions in all (a token-count
  // batcher's budget; 0 = B*S and B*T).
  void plan(int B, int S, int T, long src_cells = 0, long tgt_cells = 0);

  // src [B, S] with src_len[b] real ids per row (the rest is padding, never attended to);
  // tgt_in [B, T] the decoder input; tgt_out [B, T] the targets, negative where ignored. Returns
  // the mean label-smoothed cross-entropy over counted targets (0 and logits only without them).
  double forward(const int32_t* src, const int32_t* src_len, int B, int S, const int32_t* tgt_in,
                 const int32_t* tgt_out, int T, float smoothing = 0);
  void backward() override;

  // Inference. encode() runs the encoder over B sources (eval mode, within the plan) and returns
  // the memory [B, S, d]; start_decoding() projects it into a decoder cache (cross K/V);
  // decode_step() extends `rows` hypotheses by one position `pos` (row r holds token[r] there and
  // reads source cache.row_source[r]) and returns their logits [rows, vocab].
  const float* encode(const int32_t* src, const int32_t* src_len, int B, int S);
  void start_decoding(KVCache& cache, const float* memory, const int32_t* src_len, int B,
                      int S) const;
  const float* decode_step(const int32_t* tokens, int rows, int pos, KVCache& cache);

  std::vector<const TransformerStack*> stacks() const override { return {&encoder_, &decoder_}; }
  std::vector<std::string> stack_prefixes() const override { return {"encoder.", "decoder."}; }
  const TransformerStack& encoder() const { return encoder_; }
  const TransformerStack& decoder() const { return decoder_; }

 private:
  long enc_pos_ = -1;
  TransformerStack encoder_;
  long dec_pos_ = -1;
  TransformerStack decoder_;
  int plan_B_ = 0, plan_S_ = 0, plan_T_ = 0;
  long plan_src_cells_ = 0, plan_tgt_cells_ = 0;
  int B_ = 0, S_ = 0, T_ = 0;
  std::vector<int32_t> src_, src_len_, tgt_;
  float *x0_ = nullptr, *x0d_ = nullptr, *y0_ = nullptr, *y0d_ = nullptr, *g_y0_ = nullptr,
        *g_memory_ = nullptr, *g_x0_ = nullptr, *g_drop_src_ = nullptr, *g_drop_tgt_ = nullptr;
};

// Dropout stream of the decoder side (its embedding and stack): far above any encoder stream.
inline constexpr uint64_t kDecoderDropoutStream = 1ull << 32;

}  // namespace normlab
