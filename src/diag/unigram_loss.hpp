// The loss of the best predictor that ignores the context: the entropy of the token frequencies,
//   U = -sum_v p(v) ln p(v),   p(v) = count(v) / n,
// in nats per token. A language model that has learned nothing beyond the unigram statistics
// sits at U, so the sanity check (docs/sanity-check.md) and its validation read a model's loss
// against it.
#pragma once
#include <cstdint>
#include <vector>

namespace normlab {

// U of `tokens` (ids >= 0); 0 for an empty stream.
double unigram_loss(const std::vector<int32_t>& tokens);

// The unigram model of `tokens` as a predictor: its loss -ln p(v) on each id v (index v; +inf
// for an id that `tokens` never holds). The mean of it over a batch's targets is where a model
// that has learned nothing beyond the unigram statistics scores on that batch, which differs
// from U by the batch's own mix of frequent and rare tokens.
std::vector<double> unigram_surprisal(const std::vector<int32_t>& tokens);

}  // namespace normlab
