// The binary token file (format documented in docs/token-file.md): a fixed header with a magic,
// version, vocabulary size, token count and tokenizer identity, then little-endian int32 ids.
// Documents are separated by the tokenizer's EOS id.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace normlab {

struct TokenFile {
  uint32_t vocab_size = 0;
  std::string tokenizer_identity;  // 16 hex digits, see tokenizer.hpp
  std::vector<int32_t> tokens;
};

// Atomic (temporary file + rename).
void write_token_file(const std::string& path, const TokenFile& file);
// Throws UserError("PATH: ...") for a missing, truncated or corrupt file (bad magic, version,
// size not matching the header, an id >= vocab_size).
TokenFile read_token_file(const std::string& path);

}  // namespace normlab
