// The synthetic bigram chain of `normlab sanity-check` without --data (data/markov_chain.hpp).
#include <gtest/gtest.h>

#include <set>

#include "core/config.hpp"
#include "data/markov_chain.hpp"

using namespace normlab;

TEST(SanityMarkov, DeterministicLearnableChain) {
  auto a = markov_tokens(50, 20000, 7), b = markov_tokens(50, 20000, 7);
  EXPECT_EQ(a, b);
  std::vector<std::set<int32_t>> next(50);
  for (size_t i = 0; i + 1 < a.size(); ++i) {
    ASSERT_GE(a[i], 0);
    ASSERT_LT(a[i], 50);
    next[a[i]].insert(a[i + 1]);
  }
  for (const auto& s : next) EXPECT_LE(s.size(), 4u);  // four successors per id
  EXPECT_NE(markov_tokens(50, 1000, 8), std::vector<int32_t>(a.begin(), a.begin() + 1000));
  EXPECT_THROW(markov_tokens(1, 10, 1), UserError);
}
