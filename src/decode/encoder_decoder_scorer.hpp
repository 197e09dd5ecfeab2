// The encoder–decoder as an IncrementalScorer (decode/incremental_scorer.hpp): encodes a batch of
// sources once, projects them into the decoder's cross-attention cache, then extends
// hypotheses one position at a time with KV caching, returning log-softmax scores.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "decode/incremental_scorer.hpp"
#include "model/encoder_decoder.hpp"
#include "model/kv_cache.hpp"

namespace normlab {

class EncoderDecoderScorer : public IncrementalScorer {
 public:
  // Plans `model` for up to `max_sources` sources of up to seq_len tokens and `max_rows`
  // hypotheses (sources x beam).
  EncoderDecoderScorer(EncoderDecoder& model, int max_sources, int max_rows);

  // Encodes `sources` [B, S] (src_len[b] real ids each, the rest padding).
  void encode(const int32_t* sources, const int32_t* src_len, int B, int S);

  int vocab() const override { return model_.shape().vocab; }
  int max_positions() const override { return model_.shape().max_T; }
  void start(const int32_t* source_of_row, int rows) override;
  void step(const int32_t* last, int rows, int pos, float* log_probs) override;
  void reorder(const int32_t* parent, int rows) override;

 private:
  EncoderDecoder& model_;
  KVCache cache_;
};

}  // namespace normlab
