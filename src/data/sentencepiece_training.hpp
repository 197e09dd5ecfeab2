// SentencePiece training with normlab's settings, shared by `prepare` and `prepare-parallel`:
// byte fallback, identity normalisation and kept whitespace (decode(encode(x)) == x), ids
// unk 0, bos 1, eos 2, no pad. Errors become one-line UserErrors naming `label` and, for a
// vocabulary size the corpus cannot support, the size that would work.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace normlab {

// Returns the serialized model.
std::string train_sentencepiece(const std::vector<const std::string*>& lines,
                                const std::string& model_type, int vocab_size, uint64_t seed,
                                const std::string& label);

}  // namespace normlab
