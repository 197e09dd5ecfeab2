#include "decode/translate.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>

#include "decode/encoder_decoder_scorer.hpp"

namespace normlab {

TranslateStats translate_lines(EncoderDecoder& model, const Tokenizer& tokenizer,
                               const std::vector<std::string>& lines,
                               const TranslateSettings& settings,
                               const std::function<void(size_t, const std::string&)>& emit) {
  validate(settings.search);
  if (settings.batch_sentences < 1) throw UserError("option 'batch_sentences' must be >= 1");
  const auto t0 = std::chrono::steady_clock::now();
  TranslateStats stats;
  const int max_T = model.shape().max_T, eos = tokenizer.eos_id();
  // Sources (fairseq: ids then EOS), longest first within batches of similar length.
  std::vector<std::vector<int32_t>> sources(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    sources[i] = tokenizer.encode(lines[i]);
    if (static_cast<int>(sources[i].size()) >= max_T) {
      sources[i].resize(static_cast<size_t>(max_T - 1));
      ++stats.truncated;
    }
    sources[i].push_back(eos);
    stats.source_tokens += static_cast<long>(sources[i].size());
  }
  std::vector<size_t> order(lines.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return sources[a].size() < sources[b].size(); });

  const int batch = settings.batch_sentences;
  const int beam = settings.search.beam;
  EncoderDecoderScorer scorer(model, batch, batch * beam);
  std::vector<std::string> outputs(lines.size());
  std::vector<char> done(lines.size(), 0);
  size_t next_emit = 0;
  for (size_t first = 0; first < order.size(); first += static_cast<size_t>(batch)) {
    const int B = static_cast<int>(std::min<size_t>(batch, order.size() - first));
    int S = 0;
    for (int b = 0; b < B; ++b) S = std::max(S, static_cast<int>(sources[order[first + b]].size()));
    std::vector<int32_t> src(static_cast<size_t>(B) * S, 0), src_len(static_cast<size_t>(B));
    std::vector<int> lengths(static_cast<size_t>(B));
    for (int b = 0; b < B; ++b) {
      const auto& s = sources[order[first + b]];
      std::copy(s.begin(), s.end(), src.begin() + static_cast<size_t>(b) * S);
      src_len[b] = static_cast<int32_t>(s.size());
      lengths[b] = static_cast<int>(s.size());
    }
    scorer.encode(src.data(), src_len.data(), B, S);
    std::vector<std::vector<int32_t>> best(static_cast<size_t>(B));
    if (beam == 1) {
      std::vector<int> max_len(static_cast<size_t>(B));
      for (int b = 0; b < B; ++b)
        max_len[b] = max_target_length(settings.search, lengths[b], max_T);
      auto hyps = greedy_search(scorer, max_len, eos, eos, settings.search.min_len);
      for (int b = 0; b < B; ++b) best[b] = hyps[b].tokens;
    } else {
      auto hyps = beam_search(scorer, lengths, eos, eos, settings.search);
      for (int b = 0; b < B; ++b)
        if (!hyps[b].empty()) best[b] = hyps[b].front().tokens;
    }
    for (int b = 0; b < B; ++b) {
      const size_t i = order[first + b];
      outputs[i] = tokenizer.decode(best[b]);
      done[i] = 1;
      stats.output_tokens += static_cast<long>(best[b].size());
    }
    while (next_emit < lines.size() && done[next_emit]) {
      emit(next_emit, outputs[next_emit]);
      ++next_emit;
    }
  }
  stats.sentences = static_cast<long>(lines.size());
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return stats;
}

}  // namespace normlab
