// Autoregressive generation: the prompt's ids, then one sampled token at a time, each step
// re-running the model on the last seq_len tokens (no KV cache yet), streaming decoded text.
#pragma once
#include <functional>
#include <string>

#include "data/tokenizer.hpp"
#include "decode/sampler.hpp"
#include "model/decoder_lm.hpp"

namespace normlab {

struct GenerateSettings {
  int max_tokens = 100;
  SamplingSettings sampling;
  uint64_t seed = 1;
};

struct GenerateStats {
  int tokens = 0;
  double tokens_per_s = 0;
};

// `emit` receives each newly decoded piece of text. Stops early at EOS.
GenerateStats generate(DecoderLM& model, const Tokenizer& tokenizer, const std::string& prompt,
                       const GenerateSettings& settings,
                       const std::function<void(const std::string&)>& emit);

}  // namespace normlab
