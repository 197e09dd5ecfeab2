#include "decode/encoder_decoder_scorer.hpp"

#include <algorithm>
#include <cmath>

namespace normlab {

EncoderDecoderScorer::EncoderDecoderScorer(EncoderDecoder& model, int max_sources, int max_rows)
    : model_(model),
      cache_(model.decoder(), max_rows, model.shape().max_T, model.shape().vocab, max_sources,
             model.shape().max_T) {
  model_.training = false;
  model_.plan(max_sources, model.shape().max_T, 1);
}

void EncoderDecoderScorer::encode(const int32_t* sources, const int32_t* src_len, int B, int S) {
  const float* memory = model_.encode(sources, src_len, B, S);
  model_.start_decoding(cache_, memory, src_len, B, S);
}

void EncoderDecoderScorer::start(const int32_t* source_of_row, int rows) {
  cache_.restart(rows);
  std::copy(source_of_row, source_of_row + rows, cache_.row_source.begin());
}

// log p = z - logsumexp(z), per row.
void EncoderDecoderScorer::step(const int32_t* last, int rows, int pos, float* log_probs) {
  const int V = vocab();
  const float* logits = model_.decode_step(last, rows, pos, cache_);
  for (int r = 0; r < rows; ++r) {
    const float* z = logits + static_cast<size_t>(r) * V;
    float* out = log_probs + static_cast<size_t>(r) * V;
    const float mx = *std::max_element(z, z + V);
    double sum = 0;
    for (int v = 0; v < V; ++v) sum += std::exp(static_cast<double>(z[v] - mx));
    const float lse = mx + static_cast<float>(std::log(sum));
    for (int v = 0; v < V; ++v) out[v] = z[v] - lse;
  }
}

void EncoderDecoderScorer::reorder(const int32_t* parent, int rows) {
  cache_.reorder(parent, rows);
}

}  // namespace normlab
