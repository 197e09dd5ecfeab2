// What `prepare` and `prepare-parallel` write alike: token files in which each segment (document,
// or one side of a sentence pair) is followed by the tokenizer's EOS, and the tokenizer's fields
// of meta.json (docs/token-file.md).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/token_file.hpp"
#include "data/tokenizer.hpp"

namespace normlab {

// Segments are encoded in parallel but concatenated in the given order, so the file does not
// depend on the thread count.
TokenFile encode_segments(const Tokenizer& tok, const std::vector<const std::string*>& segments);

// {vocab_size, model_type, tokenizer: "tokenizer.model", tokenizer_identity, eos_id}.
nlohmann::json tokenizer_meta(const Tokenizer& tok, const std::string& model_type);

}  // namespace normlab
