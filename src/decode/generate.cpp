#include "decode/generate.hpp"

#include <algorithm>
#include <chrono>

namespace normlab {

GenerateStats generate(DecoderLM& model, const Tokenizer& tokenizer, const std::string& prompt,
                       const GenerateSettings& settings,
                       const std::function<void(const std::string&)>& emit) {
  const int T_max = model.shape().max_T, V = model.shape().vocab;
  model.training = false;
  model.plan(1, T_max);
  std::vector<int32_t> ids = tokenizer.encode(prompt);
  if (ids.empty()) ids.push_back(tokenizer.eos_id() >= 0 ? tokenizer.eos_id() : 0);
  std::string shown = tokenizer.decode(ids);
  Rng rng(settings.seed);
  std::vector<std::pair<float, int32_t>> scratch;
  auto start = std::chrono::steady_clock::now();
  GenerateStats stats;
  for (int n = 0; n < settings.max_tokens; ++n) {
    const int T = std::min<int>(static_cast<int>(ids.size()), T_max);
    model.forward(ids.data() + ids.size() - T, nullptr, 1, T);
    const float* last = model.logits() + static_cast<size_t>(T - 1) * V;
    int32_t next = sample_token(last, V, settings.sampling, rng, scratch);
    ++stats.tokens;
    if (next == tokenizer.eos_id()) break;
    ids.push_back(next);
    // Decode the whole continuation and emit what is new: SentencePiece pieces do not always
    // map to whole characters (byte fallback), so piece-by-piece output could split UTF-8.
    std::string text = tokenizer.decode(ids);
    if (text.size() > shown.size() && text.compare(0, shown.size(), shown) == 0) {
      emit(text.substr(shown.size()));
      shown = text;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stats.tokens_per_s = secs > 0 ? stats.tokens / secs : 0;
  return stats;
}

}  // namespace normlab
