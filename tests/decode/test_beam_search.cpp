// Greedy and beam search (decode/beam_search.hpp) on the synthetic scorer of
// synthetic_scorer.hpp, whose log-probs depend on each row's whole cached history. Oracles:
// exhaustive enumeration of every sequence up to max length (a beam that covers them all must
// return exactly that list), a plain one-source beam search that rescores full prefixes
// (no caches, no batching, no per-row top-k shortcut), and greedy vs beam 1.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/config.hpp"
#include "decode/beam_search.hpp"
#include "synthetic_scorer.hpp"

using namespace normlab;
using normlab::testing::SyntheticModel;
using normlab::testing::SyntheticScorer;

namespace {

constexpr int32_t kStart = 1;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

SyntheticModel make_model(uint64_t seed, float eos_bias = 0.0f, int levels = 0) {
  SyntheticModel m;
  m.levels = levels;
  m.seed = seed;
  m.vocab = 5;
  m.eos = 3;
  m.eos_bias = eos_bias;
  return m;
}

std::vector<int> iota_ids(int n) {
  std::vector<int> ids(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) ids[static_cast<size_t>(i)] = i;
  return ids;
}

// The model's log-probs after `tokens`, with the length rules of beam_search.hpp.
std::vector<float> constrained(const SyntheticModel& m, int source,
                               const std::vector<int32_t>& tokens, int max_len, int min_len) {
  std::vector<int32_t> history{kStart};
  history.insert(history.end(), tokens.begin(), tokens.end());
  std::vector<float> lp = m.log_probs(source, history);
  const int pos = static_cast<int>(tokens.size());
  for (int t = 0; t < m.vocab; ++t) {
    if (pos >= max_len && t != m.eos) lp[static_cast<size_t>(t)] = kNegInf;
    if (pos < max_len && pos < min_len && t == m.eos) lp[static_cast<size_t>(t)] = kNegInf;
  }
  return lp;
}

float normalized(float score, size_t n_tokens, float length_penalty) {
  return score / std::pow(static_cast<float>(n_tokens + 1), length_penalty);
}

// log p(tokens, EOS), accumulated in the order the search does (so the sums agree exactly).
float sequence_score(const SyntheticModel& m, int source, const std::vector<int32_t>& tokens,
                     int max_len, int min_len) {
  float score = 0;
  std::vector<int32_t> prefix;
  for (size_t i = 0; i <= tokens.size(); ++i) {
    const int32_t t = i < tokens.size() ? tokens[i] : m.eos;
    score += constrained(m, source, prefix, max_len, min_len)[static_cast<size_t>(t)];
    prefix.push_back(t);
  }
  return score;
}

void sort_by_normalized(std::vector<Hypothesis>& hyps) {
  std::stable_sort(hyps.begin(), hyps.end(), [](const Hypothesis& a, const Hypothesis& b) {
    return a.normalized_score > b.normalized_score;
  });
}

// Every sequence of at most max_len tokens followed by EOS, best normalized score first.
std::vector<Hypothesis> exhaustive(const SyntheticModel& m, int source, int max_len, int min_len,
                                   float length_penalty) {
  std::vector<Hypothesis> all;
  auto expand = [&](auto&& self, const std::vector<int32_t>& prefix, float score) -> void {
    const std::vector<float> lp = constrained(m, source, prefix, max_len, min_len);
    for (int32_t t = 0; t < m.vocab; ++t) {
      if (lp[static_cast<size_t>(t)] == kNegInf) continue;
      const float s = score + lp[static_cast<size_t>(t)];
      if (t == m.eos) {
        all.push_back({prefix, s, normalized(s, prefix.size(), length_penalty)});
      } else {
        std::vector<int32_t> longer = prefix;
        longer.push_back(t);
        self(self, longer, s);
      }
    }
  };
  expand(expand, {}, 0.0f);
  sort_by_normalized(all);
  return all;
}

// The rule of beam_search.hpp for one source, rescoring full prefixes with the model.
std::vector<Hypothesis> reference_beam(const SyntheticModel& m, int source, int max_len,
                                       const BeamOptions& o) {
  struct Cand {
    float score;
    size_t from;
    int32_t token;
  };
  std::vector<Hypothesis> active{{{}, 0.0f, 0.0f}}, finished;
  const size_t K = static_cast<size_t>(o.beam);
  while (!active.empty() && finished.size() < K) {
    std::vector<Cand> cands;
    for (size_t i = 0; i < active.size(); ++i) {
      const std::vector<float> lp = constrained(m, source, active[i].tokens, max_len, o.min_len);
      for (int32_t t = 0; t < m.vocab; ++t)
        if (lp[static_cast<size_t>(t)] != kNegInf)
          cands.push_back({active[i].score + lp[static_cast<size_t>(t)], i, t});
    }
    std::sort(cands.begin(), cands.end(), [](const Cand& a, const Cand& b) {
      if (a.score != b.score) return a.score > b.score;
      return a.from != b.from ? a.from < b.from : a.token < b.token;
    });
    std::vector<Hypothesis> next;
    for (size_t i = 0; i < cands.size(); ++i) {
      const Hypothesis& h = active[cands[i].from];
      if (cands[i].token == m.eos) {
        if (i < K && finished.size() < K)
          finished.push_back({h.tokens, cands[i].score,
                              normalized(cands[i].score, h.tokens.size(), o.length_penalty)});
      } else if (next.size() < K) {
        next.push_back({h.tokens, cands[i].score, 0.0f});
        next.back().tokens.push_back(cands[i].token);
      }
    }
    active.swap(next);
  }
  sort_by_normalized(finished);
  if (finished.size() > static_cast<size_t>(o.n_best))
    finished.resize(static_cast<size_t>(o.n_best));
  return finished;
}

void expect_same(const std::vector<Hypothesis>& got, const std::vector<Hypothesis>& want,
                 const std::string& where) {
  ASSERT_EQ(got.size(), want.size()) << where;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].tokens, want[i].tokens) << where << " rank " << i;
    EXPECT_EQ(got[i].score, want[i].score) << where << " rank " << i;
    EXPECT_EQ(got[i].normalized_score, want[i].normalized_score) << where << " rank " << i;
  }
}

}  // namespace

// V = 5 and max_len <= 3: at most 1 + 4 + 16 + 64 = 85 sequences, and at most 4^2 * 5 = 80
// candidates per step, so a beam of 5^3 prunes nothing and finalizes every sequence.
TEST(BeamSearch, CoveringBeamEqualsExhaustiveSearch) {
  const std::vector<int> source_lengths{1, 2, 3, 4, 0};
  for (uint64_t seed : {1, 2, 3, 4}) {
    for (float lp : {0.0f, 1.0f, 2.0f}) {
      for (int min_len : {0, 1, 2}) {
        const SyntheticModel m = make_model(seed);
        BeamOptions o;
        o.beam = 125;
        o.n_best = 125;
        o.length_penalty = lp;
        o.max_len_a = 0.5f;  // max_len = int(0.5 L + 1): 1, 2, 2, 3, 1
        o.max_len_b = 1;
        o.min_len = min_len;
        SyntheticScorer scorer(m, iota_ids(5));
        const auto got = beam_search(scorer, source_lengths, kStart, m.eos, o);
        ASSERT_EQ(got.size(), source_lengths.size());
        for (int s = 0; s < 5; ++s) {
          const int max_len = max_target_length(o, source_lengths[static_cast<size_t>(s)], 64);
          const std::vector<Hypothesis> want = exhaustive(m, s, max_len, min_len, lp);
          expect_same(got[static_cast<size_t>(s)], want,
                      "seed " + std::to_string(seed) + " lp " + std::to_string(lp) + " min_len " +
                          std::to_string(min_len) + " source " + std::to_string(s));
        }
        EXPECT_GT(scorer.moved_rows, 0);
      }
    }
  }
}

// Small beams prune; the batched, cached search must still follow the documented rule exactly,
// including its tie-breaking (levels 2: logits 0 or 1, so many candidates tie exactly).
TEST(BeamSearch, SmallBeamsMatchPlainReference) {
  const std::vector<int> source_lengths{3, 7, 1, 5, 4, 6};
  for (uint64_t seed : {11, 12, 13}) {
    for (int beam : {1, 2, 3, 4}) {
      for (float lp : {0.0f, 1.0f, 2.0f}) {
        for (auto [eos_bias, levels] : {std::pair{-1.0f, 0}, {0.5f, 0}, {0.0f, 2}}) {
          const SyntheticModel m = make_model(seed, eos_bias, levels);
          BeamOptions o;
          o.beam = beam;
          o.n_best = beam;
          o.length_penalty = lp;
          o.max_len_a = 1.0f;
          o.max_len_b = 1;
          o.min_len = 1;
          SyntheticScorer scorer(m, iota_ids(6));
          const auto got = beam_search(scorer, source_lengths, kStart, m.eos, o);
          for (int s = 0; s < 6; ++s) {
            const int max_len = max_target_length(o, source_lengths[static_cast<size_t>(s)], 64);
            const std::string where = "seed " + std::to_string(seed) + " beam " +
                                      std::to_string(beam) + " lp " + std::to_string(lp) +
                                      " source " + std::to_string(s);
            expect_same(got[static_cast<size_t>(s)], reference_beam(m, s, max_len, o), where);
            for (const Hypothesis& h : got[static_cast<size_t>(s)])
              EXPECT_EQ(h.score, sequence_score(m, s, h.tokens, max_len, o.min_len)) << where;
          }
          if (beam > 1) {
            EXPECT_GT(scorer.moved_rows, 0);
          }
        }
      }
    }
  }
}

TEST(BeamSearch, BeamOneEqualsGreedy) {
  const std::vector<int> source_lengths{2, 9, 5, 0, 12};
  for (uint64_t seed : {21, 22, 23, 24, 25}) {
    for (auto [min_len, levels] : {std::pair{0, 0}, {3, 0}, {0, 2}}) {
      const SyntheticModel m = make_model(seed, -0.5f, levels);  // levels 2: exact ties
      BeamOptions o;
      o.beam = 1;
      o.length_penalty = 1.0f;
      o.max_len_a = 1.0f;
      o.max_len_b = 2;
      o.min_len = min_len;
      SyntheticScorer beam_scorer(m, iota_ids(5)), greedy_scorer(m, iota_ids(5));
      const auto beams = beam_search(beam_scorer, source_lengths, kStart, m.eos, o);
      std::vector<int> max_len;
      for (int L : source_lengths) max_len.push_back(max_target_length(o, L, 64));
      const auto greedy = greedy_search(greedy_scorer, max_len, kStart, m.eos, min_len);
      ASSERT_EQ(greedy.size(), 5u);
      for (size_t s = 0; s < 5; ++s) {
        ASSERT_EQ(beams[s].size(), 1u);
        EXPECT_EQ(greedy[s].tokens, beams[s][0].tokens) << "seed " << seed << " source " << s;
        EXPECT_EQ(greedy[s].score, beams[s][0].score) << "seed " << seed << " source " << s;
        EXPECT_EQ(greedy[s].normalized_score, greedy[s].score);
      }
    }
  }
}

TEST(BeamSearch, BatchedEqualsEachSourceAlone) {
  const std::vector<int> source_lengths{4, 1, 8, 3, 6, 2, 5};
  const SyntheticModel m = make_model(31, -0.3f);
  BeamOptions o;
  o.beam = 4;
  o.n_best = 3;
  o.length_penalty = 1.0f;
  o.max_len_a = 1.2f;
  o.max_len_b = 2;
  SyntheticScorer batch(m, iota_ids(7));
  const auto together = beam_search(batch, source_lengths, kStart, m.eos, o);
  std::vector<int> max_len;
  for (int L : source_lengths) max_len.push_back(max_target_length(o, L, 64));
  SyntheticScorer greedy_batch(m, iota_ids(7));
  const auto greedy_together = greedy_search(greedy_batch, max_len, kStart, m.eos);
  for (int s = 0; s < 7; ++s) {
    SyntheticScorer alone(m, {s}), greedy_alone(m, {s});
    const std::vector<int> one_length{source_lengths[static_cast<size_t>(s)]};
    const std::vector<int> one_max{max_len[static_cast<size_t>(s)]};
    expect_same(together[static_cast<size_t>(s)],
                beam_search(alone, one_length, kStart, m.eos, o)[0], "source " + std::to_string(s));
    expect_same({greedy_together[static_cast<size_t>(s)]},
                greedy_search(greedy_alone, one_max, kStart, m.eos),
                "greedy source " + std::to_string(s));
  }
}

// Sources whose search ends leave the batch: the scorer sees fewer rows afterwards.
TEST(BeamSearch, FinishedSourcesAreDropped) {
  const SyntheticModel m = make_model(41, -3.0f);  // EOS unlikely: searches run to max_len
  BeamOptions o;
  o.beam = 3;
  o.max_len_a = 1.0f;
  o.max_len_b = 0;
  SyntheticScorer scorer(m, iota_ids(3));
  const std::vector<int> source_lengths{1, 6, 2};
  beam_search(scorer, source_lengths, kStart, m.eos, o);
  // Steps at positions 0 .. 6; position p still holds the sources with max_len >= p.
  ASSERT_EQ(scorer.rows_per_step.size(), 7u);
  EXPECT_EQ(scorer.rows_per_step[0], 9);  // every source starts as `beam` rows
  EXPECT_EQ(scorer.rows_per_step[1], 9);
  EXPECT_EQ(scorer.rows_per_step[2], 6);  // source 0 (max_len 1) is finished
  for (size_t p = 3; p < 7; ++p) EXPECT_EQ(scorer.rows_per_step[p], 3) << p;

  SyntheticScorer greedy(m, iota_ids(3));
  greedy_search(greedy, std::vector<int>{1, 6, 2}, kStart, m.eos);
  EXPECT_EQ(greedy.rows_per_step, (std::vector<int>{3, 3, 2, 1, 1, 1, 1}));
}

TEST(BeamSearch, MaxLengthForcesEos) {
  const SyntheticModel m = make_model(51, -30.0f);  // EOS never wins on its own
  BeamOptions o;
  o.beam = 3;
  o.n_best = 3;
  o.max_len_a = 0.5f;
  o.max_len_b = 1;
  const std::vector<int> source_lengths{0, 3, 8};  // max_len 1, 2, 5
  SyntheticScorer scorer(m, iota_ids(3));
  const auto got = beam_search(scorer, source_lengths, kStart, m.eos, o);
  std::vector<int> max_len;
  for (int L : source_lengths) max_len.push_back(max_target_length(o, L, 64));
  EXPECT_EQ(max_len, (std::vector<int>{1, 2, 5}));
  SyntheticScorer greedy_scorer(m, iota_ids(3));
  const auto greedy = greedy_search(greedy_scorer, max_len, kStart, m.eos);
  for (size_t s = 0; s < 3; ++s) {
    ASSERT_EQ(got[s].size(), 3u);
    for (const Hypothesis& h : got[s]) {
      EXPECT_EQ(static_cast<int>(h.tokens.size()), max_len[s]);
      // The forced EOS keeps its own (tiny) log-prob: the score is that of the real sequence.
      EXPECT_EQ(h.score, sequence_score(m, static_cast<int>(s), h.tokens, 64, 0));
      EXPECT_LT(h.score, -25.0f);
    }
    EXPECT_EQ(static_cast<int>(greedy[s].tokens.size()), max_len[s]);
    EXPECT_EQ(greedy[s].score, sequence_score(m, static_cast<int>(s), greedy[s].tokens, 64, 0));
  }
}

// Lengths are clamped so that position max_len still fits the scorer.
TEST(BeamSearch, MaxLengthClampedToScorerPositions) {
  const SyntheticModel m = make_model(52, -30.0f);
  BeamOptions o;
  o.beam = 2;
  o.max_len_b = 100;
  EXPECT_EQ(max_target_length(o, 7, 4), 3);
  SyntheticScorer scorer(m, {0}, /*max_positions=*/4);
  const auto got = beam_search(scorer, std::vector<int>{7}, kStart, m.eos, o);
  EXPECT_EQ(got[0][0].tokens.size(), 3u);
  SyntheticScorer greedy(m, {0}, 4);
  EXPECT_EQ(greedy_search(greedy, std::vector<int>{100}, kStart, m.eos)[0].tokens.size(), 3u);
  o.max_len_a = 0.0f;
  o.max_len_b = -5;
  EXPECT_EQ(max_target_length(o, 7, 4), 0);
}

TEST(BeamSearch, MinLengthForbidsEarlyEos) {
  const SyntheticModel m = make_model(61, 30.0f);  // EOS always wins when allowed
  SyntheticScorer free_scorer(m, {0});
  EXPECT_TRUE(greedy_search(free_scorer, std::vector<int>{10}, kStart, m.eos)[0].tokens.empty());
  for (int min_len : {1, 4}) {
    BeamOptions o;
    o.beam = 3;
    o.n_best = 3;
    o.max_len_b = 10;
    o.min_len = min_len;
    SyntheticScorer scorer(m, {0});
    const auto got = beam_search(scorer, std::vector<int>{5}, kStart, m.eos, o);
    ASSERT_EQ(got[0].size(), 3u);
    for (const Hypothesis& h : got[0]) EXPECT_EQ(static_cast<int>(h.tokens.size()), min_len);
    SyntheticScorer greedy(m, {0});
    EXPECT_EQ(
        static_cast<int>(
            greedy_search(greedy, std::vector<int>{10}, kStart, m.eos, min_len)[0].tokens.size()),
        min_len);
  }
}

TEST(BeamSearch, InvalidOptionsThrowUserError) {
  auto bad = [](auto edit) {
    BeamOptions o;
    edit(o);
    EXPECT_THROW(validate(o), UserError);
  };
  bad([](BeamOptions& o) { o.beam = 0; });
  bad([](BeamOptions& o) { o.n_best = 0; });
  bad([](BeamOptions& o) { o.n_best = o.beam + 1; });
  bad([](BeamOptions& o) { o.min_len = -1; });
  bad([](BeamOptions& o) { o.max_len_a = -0.5f; });
  bad([](BeamOptions& o) { o.length_penalty = std::nanf(""); });
  EXPECT_NO_THROW(validate(BeamOptions{}));
}

TEST(BeamSearch, NoSourcesNoCalls) {
  SyntheticScorer scorer(make_model(1), {});
  EXPECT_TRUE(beam_search(scorer, std::vector<int>{}, kStart, 3, BeamOptions{}).empty());
  EXPECT_TRUE(greedy_search(scorer, std::vector<int>{}, kStart, 3).empty());
  EXPECT_TRUE(scorer.rows_per_step.empty());
}
