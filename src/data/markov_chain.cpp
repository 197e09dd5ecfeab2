#include "data/markov_chain.hpp"

#include <algorithm>

#include "core/config.hpp"
#include "core/rng.hpp"

namespace normlab {

std::vector<int32_t> markov_tokens(int vocab, size_t n, uint64_t seed) {
  if (vocab < 2) throw UserError("option 'vocab_size': the synthetic chain needs at least 2 ids");
  const int k = std::min(4, vocab);
  static const double kProb[4] = {0.55, 0.25, 0.12, 0.08};
  std::vector<int32_t> succ(static_cast<size_t>(vocab) * k);
  Rng rng(seed);
  for (int v = 0; v < vocab; ++v) {
    int32_t* s = succ.data() + static_cast<size_t>(v) * k;
    for (int j = 0; j < k; ++j) {
      int32_t c;
      do c = static_cast<int32_t>(rng.next_u64() % static_cast<uint64_t>(vocab));
      while (std::find(s, s + j, c) != s + j);
      s[j] = c;
    }
  }
  std::vector<int32_t> out(n);
  int32_t cur = static_cast<int32_t>(rng.next_u64() % static_cast<uint64_t>(vocab));
  for (size_t i = 0; i < n; ++i) {
    out[i] = cur;
    double u = rng.uniform(), acc = 0;
    int j = 0;
    for (; j < k - 1; ++j) {
      acc += kProb[j];
      if (u < acc) break;
    }
    cur = succ[static_cast<size_t>(cur) * k + j];
  }
  return out;
}

}  // namespace normlab
