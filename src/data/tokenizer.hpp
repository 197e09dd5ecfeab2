// SentencePiece tokenizer (Kudo & Richardson 2018) with an identity: a 64-bit FNV-1a hash of the
// model file's bytes, written into token files and checkpoints so that a mismatch is caught.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace normlab {

class Tokenizer {
 public:
  // Throws UserError("PATH: ...") if the file is missing or not a SentencePiece model.
  explicit Tokenizer(const std::string& model_path);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  std::vector<int32_t> encode(const std::string& text) const;
  std::string decode(const std::vector<int32_t>& ids) const;
  std::string piece(int32_t id) const;  // raw piece text, for streaming output
  // The bytes one piece contributes to decoded text: U+2581 -> ' ', a byte piece <0xNN> -> that
  // byte (possibly part of a UTF-8 sequence), control pieces -> "". Concatenating piece_text over
  // a sequence equals decode() except for the single leading space decode() strips.
  std::string piece_text(int32_t id) const;
  int vocab_size() const;
  int eos_id() const;
  const std::string& identity() const { return identity_; }  // 16 hex digits
  const std::string& path() const { return path_; }

 private:
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
  std::string identity_, path_;
};

// 16 lowercase hex digits of FNV-1a 64 over a file's bytes.
std::string file_identity(const std::string& path);

}  // namespace normlab
