// Fuzz target: the binary token file reader (src/data/token_file.cpp, docs/token-file.md). An
// accepted file must survive write -> read unchanged.
#include "core/config.hpp"
#include "data/token_file.hpp"
#include "fuzz_input.hpp"

using namespace normlab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = normlab_fuzz::write_input(data, size, ".tokens");
  TokenFile file;
  try {
    file = read_token_file(path);
  } catch (const UserError& e) {
    normlab_fuzz::check_user_error(e, path);
    return 0;
  }
  write_token_file(path, file);
  const TokenFile again = read_token_file(path);
  normlab_fuzz::require(again.vocab_size == file.vocab_size &&
                            again.tokenizer_identity == file.tokenizer_identity &&
                            again.tokens == file.tokens,
                        "write -> read round trip");
  return 0;
}
