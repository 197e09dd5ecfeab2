#include "data/token_rows.hpp"

#include <algorithm>
#include <climits>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/config.hpp"

namespace normlab {

namespace {

// Ids must lie in [0, vocab): the error names the file and line rather than the model's batch.
std::vector<int32_t> parse_ids(const std::string& text, const std::string& path, int line_no,
                               int vocab) {
  std::istringstream ls(text);
  std::vector<int32_t> ids;
  std::string word;
  while (ls >> word) {
    try {
      size_t used = 0;
      long v = std::stol(word, &used);
      if (used != word.size() || v < 0 || v > INT32_MAX) throw std::invalid_argument(word);
      ids.push_back(static_cast<int32_t>(v));
    } catch (const std::exception&) {
      throw UserError(path + ": line " + std::to_string(line_no) + ": '" + word +
                      "' is not a token id");
    }
    if (ids.back() >= vocab)
      throw UserError(path + ": line " + std::to_string(line_no) + ": token id " + word +
                      " is outside the model's vocabulary of " + std::to_string(vocab));
  }
  return ids;
}

}  // namespace

TokenRows read_token_rows(const std::string& path, int vocab) {
  std::ifstream in(path);
  if (!in) throw UserError(path + ": cannot open");
  TokenRows r;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find('|') != std::string::npos)
      throw UserError(path + ": line " + std::to_string(line_no) +
                      ": 'SOURCE | TARGET' rows need an arch=encdec model");
    std::vector<int32_t> ids = parse_ids(line, path, line_no, vocab);
    if (ids.empty()) continue;
    if (ids.size() < 2)
      throw UserError(path + ": line " + std::to_string(line_no) + ": needs at least 2 ids");
    int T = static_cast<int>(ids.size()) - 1;
    if (r.B == 0) r.T = T;
    if (T != r.T)
      throw UserError(path + ": line " + std::to_string(line_no) + " has " +
                      std::to_string(ids.size()) + " ids, line 1 has " + std::to_string(r.T + 1));
    r.inputs.insert(r.inputs.end(), ids.begin(), ids.end() - 1);
    r.targets.insert(r.targets.end(), ids.begin() + 1, ids.end());
    ++r.B;
  }
  if (r.B == 0) throw UserError(path + ": no token rows");
  return r;
}

TokenRows read_pair_rows(const std::string& path, int vocab) {
  std::ifstream in(path);
  if (!in) throw UserError(path + ": cannot open");
  std::vector<std::vector<int32_t>> srcs, tgts;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const size_t bar = line.find('|');
    if (bar == std::string::npos)
      throw UserError(path + ": line " + std::to_string(line_no) +
                      ": expected 'SOURCE IDS | TARGET IDS' for an arch=encdec model");
    srcs.push_back(parse_ids(line.substr(0, bar), path, line_no, vocab));
    tgts.push_back(parse_ids(line.substr(bar + 1), path, line_no, vocab));
    if (srcs.back().empty() || tgts.back().size() < 2)
      throw UserError(path + ": line " + std::to_string(line_no) +
                      ": needs at least 1 source id and 2 target ids");
  }
  TokenRows r;
  r.B = static_cast<int>(srcs.size());
  if (r.B == 0) throw UserError(path + ": no token rows");
  for (int b = 0; b < r.B; ++b) {
    r.S = std::max(r.S, static_cast<int>(srcs[b].size()));
    r.T = std::max(r.T, static_cast<int>(tgts[b].size()) - 1);
  }
  r.src.assign(static_cast<size_t>(r.B) * r.S, 0);
  r.inputs.assign(static_cast<size_t>(r.B) * r.T, 0);
  r.targets.assign(static_cast<size_t>(r.B) * r.T, -1);
  for (int b = 0; b < r.B; ++b) {
    std::copy(srcs[b].begin(), srcs[b].end(), r.src.begin() + static_cast<size_t>(b) * r.S);
    r.src_len.push_back(static_cast<int32_t>(srcs[b].size()));
    const auto& t = tgts[b];
    std::copy(t.begin(), t.end() - 1, r.inputs.begin() + static_cast<size_t>(b) * r.T);
    std::copy(t.begin() + 1, t.end(), r.targets.begin() + static_cast<size_t>(b) * r.T);
  }
  return r;
}

}  // namespace normlab
