// Greedy and beam search over an IncrementalScorer, batched over source sentences, with
// fairseq's semantics (Ott et al. 2019, fairseq/sequence_generator.py):
//  - a hypothesis' score is the sum of the log-probs of its tokens, including the final EOS;
//  - a finished hypothesis is ranked by score / length^length_penalty, where length counts the
//    EOS (a hypothesis of n tokens plus EOS has length n + 1, never 0);
//  - a source of length L is decoded to at most max_len = int(max_len_a * L + max_len_b) tokens
//    besides EOS (clamped to the scorer's positions): at position max_len only EOS is allowed,
//    with its own unrenormalised log-prob; before position min_len EOS is forbidden (max_len wins
//    if they clash);
//  - each step ranks the candidates (active hypothesis, next token) of a source by raw score.
//    EOS candidates among the best `beam` are finalized (until `beam` are), and the best `beam`
//    non-EOS candidates stay active. A source is finished when it holds `beam` finalized
//    hypotheses (fairseq's rule: no check that an active one could still beat them) or nothing
//    is left active. Its rows are then dropped, so later steps cost less.
// With a beam at least as large as the number of possible sequences nothing is pruned and the
// result equals exhaustive enumeration (tests/decode/test_beam_search.cpp). Ties are broken
// towards the lower row, then the lower token id, so results are deterministic.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "decode/incremental_scorer.hpp"

namespace normlab {

struct BeamOptions {
  int beam = 5;
  float length_penalty = 1.0f;  // 0: rank by raw score; > 0 favours longer output
  float max_len_a = 0.0f;       // max_len = int(max_len_a * source length + max_len_b)
  int max_len_b = 200;
  int min_len = 1;  // tokens before EOS is allowed (fairseq's default: no empty output)
  int n_best = 1;   // hypotheses returned per source, 1 <= n_best <= beam
};

struct Hypothesis {
  std::vector<int32_t> tokens;  // without the start token and without EOS
  float score = 0;              // sum of log-probs of tokens and EOS
  float normalized_score = 0;   // score / (tokens.size() + 1)^length_penalty
};

// Throws UserError naming the first invalid option.
void validate(const BeamOptions& options);

// Tokens allowed before the forced EOS for a source of `source_length` tokens: the formula
// above clamped to [0, max_positions - 1] (position max_len must still fit).
int max_target_length(const BeamOptions& options, int source_length, int max_positions);

// One hypothesis per source: the most likely token at each step (ties: lower id), EOS forced at
// max_len[s] (clamped like max_target_length) and forbidden before min_len. No length penalty:
// normalized_score == score. Sources are those of the scorer, 0 .. max_len.size() - 1.
std::vector<Hypothesis> greedy_search(IncrementalScorer& scorer, std::span<const int> max_len,
                                      int32_t start_token, int32_t eos, int min_len = 0);

// Up to options.n_best hypotheses per source (fewer only if fewer finished), best normalized
// score first. Source s has source_lengths[s] tokens. The scorer's rows are grouped by source
// in source order: start() gets `beam` identical rows per source, and the count only shrinks.
std::vector<std::vector<Hypothesis>> beam_search(IncrementalScorer& scorer,
                                                 std::span<const int> source_lengths,
                                                 int32_t start_token, int32_t eos,
                                                 const BeamOptions& options);

}  // namespace normlab
