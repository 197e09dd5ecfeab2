#include "diag/unigram_loss.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace normlab {

double unigram_loss(const std::vector<int32_t>& tokens) {
  // U is the mean surprisal of the tokens themselves: sum_v (count(v) / n) (-ln p(v)).
  const std::vector<double> s = unigram_surprisal(tokens);
  double entropy = 0;
  for (int32_t t : tokens) entropy += s[static_cast<size_t>(t)];
  return tokens.empty() ? 0 : entropy / static_cast<double>(tokens.size());
}

std::vector<double> unigram_surprisal(const std::vector<int32_t>& tokens) {
  if (tokens.empty()) return {};
  const int32_t max_id = *std::max_element(tokens.begin(), tokens.end());
  std::vector<double> s(static_cast<size_t>(max_id) + 1, 0);
  for (int32_t t : tokens) s[static_cast<size_t>(t)] += 1;
  const double n = static_cast<double>(tokens.size());
  for (double& c : s) c = c > 0 ? -std::log(c / n) : std::numeric_limits<double>::infinity();
  return s;
}

}  // namespace normlab
