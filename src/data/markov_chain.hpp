// A synthetic token stream with something to learn, for checks that need data but no corpus
// (`normlab sanity-check` without --data).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace normlab {

// `n` tokens from a fixed random bigram (Markov) chain over `vocab` ids: each id has four
// successors drawn once from `seed`, taken with probabilities 0.55, 0.25, 0.12 and 0.08, so a
// model can learn the chain (its entropy rate is -sum p ln p = 1.13 nats, far below ln(vocab)).
// Throws UserError for vocab < 2.
std::vector<int32_t> markov_tokens(int vocab, size_t n, uint64_t seed);

}  // namespace normlab
