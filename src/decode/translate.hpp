// Translation (or summarization) of text lines with an encoder–decoder: SentencePiece in,
// batched greedy or beam search over KV caches (beam_search.hpp), SentencePiece out.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "data/tokenizer.hpp"
#include "decode/beam_search.hpp"
#include "model/encoder_decoder.hpp"

namespace normlab {

struct TranslateSettings {
  BeamOptions search;  // beam 1: greedy search
  int batch_sentences = 32;
};

struct TranslateStats {
  long sentences = 0, source_tokens = 0, output_tokens = 0, truncated = 0;
  double seconds = 0;
};

// Translates every line (a source is its ids then EOS, cut to seq_len), decoding
// `batch_sentences` sources of similar length at a time, and calls emit(i, text) for each line i
// in input order.
TranslateStats translate_lines(EncoderDecoder& model, const Tokenizer& tokenizer,
                               const std::vector<std::string>& lines,
                               const TranslateSettings& settings,
                               const std::function<void(size_t, const std::string&)>& emit);

}  // namespace normlab
