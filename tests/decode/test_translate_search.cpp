// Beam search with the real (tiny) encoder–decoder as the scorer: KV caches, cross-attention
// memory and reorder in the loop. Oracle: every target sequence up to the maximum length scored
// independently by the full (uncached) forward, ranked by score / length^length_penalty. A beam
// wide enough to hold every sequence must return exactly the best of them for each source.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "decode/beam_search.hpp"
#include "decode/encoder_decoder_scorer.hpp"
#include "model/encoder_decoder.hpp"

using namespace normlab;

namespace {

constexpr int kVocab = 6, kEos = 2, kMaxLen = 2;

Config tiny(const std::string& placement) {
  Config c = Config::defaults();
  c.set("arch", "encdec", "test");
  c.set("vocab_size", std::to_string(kVocab), "test");
  c.set("d_model", "16", "test");
  c.set("n_heads", "2", "test");
  c.set("n_layers", "2", "test");
  c.set("encoder_layers", "2", "test");
  c.set("d_ff", "24", "test");
  c.set("seq_len", "8", "test");
  c.set("placement", placement, "test");
  return c;
}

// Sum of log p(tokens[t] | prefix, source) over the sequence, EOS included, by full forwards.
double full_score(EncoderDecoder& model, const std::vector<int32_t>& src,
                  const std::vector<int32_t>& seq) {
  const int S = static_cast<int>(src.size()), T = static_cast<int>(seq.size());
  const int32_t src_len = S;
  std::vector<int32_t> in(static_cast<size_t>(T));
  in[0] = kEos;  // the start token
  for (int t = 1; t < T; ++t) in[t] = seq[t - 1];
  model.forward(src.data(), &src_len, 1, S, in.data(), nullptr, T);
  double score = 0;
  for (int t = 0; t < T; ++t) {
    const float* z = model.logits() + static_cast<size_t>(t) * kVocab;
    double mx = z[0], sum = 0;
    for (int v = 1; v < kVocab; ++v) mx = std::max(mx, static_cast<double>(z[v]));
    for (int v = 0; v < kVocab; ++v) sum += std::exp(z[v] - mx);
    score += z[seq[t]] - mx - std::log(sum);
  }
  return score;
}

TEST(TranslateSearch, CoveringBeamEqualsExhaustiveSearchOnTheModel) {
  for (const char* placement : {"b2t", "pre"}) {
    EncoderDecoder model(tiny(placement));
    model.initialize(17);
    model.training = false;
    const std::vector<std::vector<int32_t>> sources = {{3, 4, 5, kEos}, {1, kEos}};
    for (float penalty : {0.0f, 1.0f}) {
      BeamOptions options;
      options.beam = 64;  // > 1 + 5 + 25 sequences of at most 2 tokens before EOS
      options.length_penalty = penalty;
      options.max_len_a = 0;
      options.max_len_b = kMaxLen;
      options.min_len = 0;
      // Exhaustive: every sequence w of length 0..kMaxLen without EOS, then EOS.
      std::vector<std::vector<int32_t>> best(sources.size());
      std::vector<double> best_norm(sources.size(), -1e30);
      for (size_t s = 0; s < sources.size(); ++s) {
        model.plan(1, static_cast<int>(sources[s].size()), kMaxLen + 1);
        std::vector<std::vector<int32_t>> prefixes = {{}};
        for (int len = 0; len <= kMaxLen; ++len) {
          std::vector<std::vector<int32_t>> longer;
          for (const auto& w : prefixes) {
            std::vector<int32_t> seq = w;
            seq.push_back(kEos);
            const double norm = full_score(model, sources[s], seq) /
                                std::pow(static_cast<double>(seq.size()), penalty);
            if (norm > best_norm[s]) best_norm[s] = norm, best[s] = w;
            for (int32_t v = 0; v < kVocab; ++v)
              if (v != kEos) longer.push_back(w), longer.back().push_back(v);
          }
          prefixes = longer;
        }
      }
      // Beam search over the KV-cached scorer, both sources at once.
      EncoderDecoderScorer scorer(model, 2, 2 * options.beam);
      std::vector<int32_t> src(2 * 4, 0), src_len = {4, 2};
      std::copy(sources[0].begin(), sources[0].end(), src.begin());
      std::copy(sources[1].begin(), sources[1].end(), src.begin() + 4);
      scorer.encode(src.data(), src_len.data(), 2, 4);
      const std::vector<int> lengths = {4, 2};
      auto hyps = beam_search(scorer, lengths, kEos, kEos, options);
      for (size_t s = 0; s < sources.size(); ++s) {
        ASSERT_FALSE(hyps[s].empty());
        EXPECT_EQ(hyps[s][0].tokens, best[s]) << placement << " penalty " << penalty;
        EXPECT_NEAR(hyps[s][0].normalized_score, best_norm[s], 1e-4) << placement;
      }
    }
  }
}

}  // namespace
