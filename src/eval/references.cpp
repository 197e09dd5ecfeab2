#include "eval/references.hpp"

#include <set>

namespace normlab::eval {

std::vector<std::size_t> used_references(const std::vector<std::vector<std::string>>& streams,
                                         std::size_t i) {
  std::vector<std::size_t> used;
  for (std::size_t k = 0; k < streams.size(); ++k)
    if (!streams[k][i].empty()) used.push_back(k);
  if (used.empty()) used.push_back(0);
  return used;
}

std::string count_references(const std::vector<std::vector<std::string>>& streams) {
  std::set<std::size_t> counts;
  const std::size_t segments = streams.empty() ? 0 : streams[0].size();
  for (std::size_t i = 0; i < segments; ++i) counts.insert(used_references(streams, i).size());
  if (counts.size() > 1) return "var";
  return std::to_string(counts.empty() ? streams.size() : *counts.begin());
}

}  // namespace normlab::eval
