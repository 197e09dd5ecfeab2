#include "decode/generate.hpp"

#include <algorithm>
#include <chrono>

#include "model/kv_cache.hpp"

namespace normlab {

namespace {

// The sampling / streaming loop shared by both variants. `next_logits(ids)` returns the logits
// of the position after the last id.
template <typename NextLogits>
GenerateStats run(DecoderLM& model, const Tokenizer& tokenizer, const std::string& prompt,
                  const GenerateSettings& settings,
                  const std::function<void(const std::string&)>& emit, NextLogits next_logits) {
  const int V = model.shape().vocab;
  std::vector<int32_t> ids = tokenizer.encode(prompt);
  if (ids.empty()) ids.push_back(tokenizer.eos_id() >= 0 ? tokenizer.eos_id() : 0);
  Rng rng(settings.seed);
  std::vector<std::pair<float, int32_t>> scratch;
  std::string pending;  // bytes of an incomplete UTF-8 character, held back until it completes
  auto start = std::chrono::steady_clock::now();
  GenerateStats stats;
  for (int n = 0; n < settings.max_tokens; ++n) {
    const float* last = next_logits(ids);
    int32_t next = sample_token(last, V, settings.sampling, rng, scratch);
    ++stats.tokens;
    if (next == tokenizer.eos_id()) break;
    ids.push_back(next);
    // Byte-fallback pieces can split a character: emit only whole UTF-8 sequences.
    pending += tokenizer.piece_text(next);
    size_t cut = pending.size();
    for (size_t back = 1; back <= std::min<size_t>(3, pending.size()); ++back) {
      unsigned char c = static_cast<unsigned char>(pending[pending.size() - back]);
      if ((c & 0xC0) == 0x80) continue;  // continuation byte
      size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      if (need > back) cut = pending.size() - back;
      break;
    }
    if (cut > 0) {
      emit(pending.substr(0, cut));
      pending.erase(0, cut);
    }
  }
  if (!pending.empty()) emit(pending);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stats.tokens_per_s = secs > 0 ? stats.tokens / secs : 0;
  return stats;
}

// Logits of the position after ids, by a full forward over the last seq_len ids.
const float* full_rerun(DecoderLM& model, const std::vector<int32_t>& ids) {
  const int T = std::min<int>(static_cast<int>(ids.size()), model.shape().max_T);
  model.forward(ids.data() + ids.size() - T, nullptr, 1, T);
  return model.logits() + static_cast<size_t>(T - 1) * model.shape().vocab;
}

}  // namespace

GenerateStats generate(DecoderLM& model, const Tokenizer& tokenizer, const std::string& prompt,
                       const GenerateSettings& settings,
                       const std::function<void(const std::string&)>& emit) {
  const int T_max = model.shape().max_T;
  model.training = false;
  model.plan(1, T_max);  // for the fallback beyond seq_len
  KVCache cache(model);
  return run(model, tokenizer, prompt, settings, emit, [&](const std::vector<int32_t>& ids) {
    const int n = static_cast<int>(ids.size());
    if (n > T_max) return full_rerun(model, ids);
    // Positions [cache.length(), n) are new: the whole prompt at first, then the sampled token.
    const float* logits = nullptr;
    for (int t = cache.length(); t < n; ++t) logits = model.forward_next(ids[t], t, cache);
    return logits;
  });
}

GenerateStats generate_uncached(DecoderLM& model, const Tokenizer& tokenizer,
                                const std::string& prompt, const GenerateSettings& settings,
                                const std::function<void(const std::string&)>& emit) {
  model.training = false;
  model.plan(1, model.shape().max_T);
  return run(model, tokenizer, prompt, settings, emit,
             [&](const std::vector<int32_t>& ids) { return full_rerun(model, ids); });
}

}  // namespace normlab
