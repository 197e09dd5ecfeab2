// The SentencePiece tokenizer of a corpus or a checkpoint (docs/library.md).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace normlab::api {

class Tokenizer {
 public:
  // A tokenizer.model file.
  explicit Tokenizer(const std::string& model_path);
  // tokenizer.model beside the checkpoint, checked against the identity the checkpoint records.
  static Tokenizer of_checkpoint(const std::string& checkpoint);
  Tokenizer(Tokenizer&&) noexcept;
  ~Tokenizer();
  std::vector<std::int32_t> encode(const std::string& text) const;
  std::string decode(const std::vector<std::int32_t>& ids) const;
  int vocab_size() const;
  int eos_id() const;

 private:
  Tokenizer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace normlab::api
