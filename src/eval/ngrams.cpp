#include "eval/ngrams.hpp"

#include <algorithm>

namespace normlab::eval {

std::int64_t count_word_ngrams(const std::vector<std::string_view>& tokens, int n,
                               NgramCounts& counts) {
  counts.clear();
  const std::int64_t total = std::max<std::int64_t>(0, std::int64_t(tokens.size()) - n + 1);
  for (std::int64_t i = 0; i < total; ++i) {
    const char* begin = tokens[i].data();
    const auto& last = tokens[i + n - 1];
    ++counts[std::string_view(begin, std::size_t(last.data() + last.size() - begin))];
  }
  return total;
}

std::int64_t count_char_ngrams(std::string_view text, const std::vector<std::size_t>& starts, int n,
                               NgramCounts& counts) {
  counts.clear();
  const std::int64_t chars = std::int64_t(starts.size()) - 1;
  const std::int64_t total = std::max<std::int64_t>(0, chars - n + 1);
  for (std::int64_t i = 0; i < total; ++i)
    ++counts[text.substr(starts[i], starts[i + n] - starts[i])];
  return total;
}

std::int64_t clipped_matches(const NgramCounts& hyp, const NgramCounts& ref) {
  std::int64_t m = 0;
  for (const auto& [g, c] : hyp)
    if (auto it = ref.find(g); it != ref.end()) m += std::min(c, it->second);
  return m;
}

}  // namespace normlab::eval
