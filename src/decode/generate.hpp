// Autoregressive generation: the prompt's ids, then one sampled token at a time, streaming
// decoded text. generate() decodes incrementally with a KV cache (model/kv_cache.hpp): the prompt
// is prefilled one position at a time, then each new token costs one forward_next. Positions are
// absolute (learned or sinusoidal), so once the sequence exceeds seq_len the window slides and
// every position shifts: generate() then falls back to the full re-run of the last seq_len tokens
// for each further token, which keeps its output identical to generate_uncached().
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
// The reference without a cache: every step re-runs forward() on the last seq_len tokens.
GenerateStats generate_uncached(DecoderLM& model, const Tokenizer& tokenizer,
                                const std::string& prompt, const GenerateSettings& settings,
                                const std::function<void(const std::string&)>& emit);

}  // namespace normlab
