#include "data/corpus_encoding.hpp"

#include <cstdint>

namespace normlab {

TokenFile encode_segments(const Tokenizer& tok, const std::vector<const std::string*>& segments) {
  const long n = static_cast<long>(segments.size());
  std::vector<std::vector<int32_t>> per(segments.size());
#pragma omp parallel for schedule(dynamic, 64)
  for (long i = 0; i < n; ++i)
    per[static_cast<size_t>(i)] = tok.encode(*segments[static_cast<size_t>(i)]);
  TokenFile f;
  f.vocab_size = static_cast<uint32_t>(tok.vocab_size());
  f.tokenizer_identity = tok.identity();
  size_t total = 0;
  for (const auto& v : per) total += v.size() + 1;
  f.tokens.reserve(total);
  for (const auto& v : per) {
    f.tokens.insert(f.tokens.end(), v.begin(), v.end());
    f.tokens.push_back(tok.eos_id());
  }
  return f;
}

nlohmann::json tokenizer_meta(const Tokenizer& tok, const std::string& model_type) {
  return {{"vocab_size", tok.vocab_size()},
          {"model_type", model_type},
          {"tokenizer", "tokenizer.model"},
          {"tokenizer_identity", tok.identity()},
          {"eos_id", tok.eos_id()}};
}

}  // namespace normlab
