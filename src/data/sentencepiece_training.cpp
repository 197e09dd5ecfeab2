#include "data/sentencepiece_training.hpp"

#include <sentencepiece_trainer.h>

#include <unordered_map>

#include "core/config.hpp"

namespace normlab {

namespace {

// Feeds SentencePiece lines from memory (docs/token-file.md says why lines, not documents).
class LineIterator : public sentencepiece::SentenceIterator {
 public:
  explicit LineIterator(const std::vector<const std::string*>& lines) : lines_(lines) {}
  bool done() const override { return i_ >= lines_.size(); }
  void Next() override { ++i_; }
  const std::string& value() const override { return *lines_[i_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  const std::vector<const std::string*>& lines_;
  size_t i_ = 0;
};

}  // namespace

std::string train_sentencepiece(const std::vector<const std::string*>& lines,
                                const std::string& model_type, int vocab_size, uint64_t seed,
                                const std::string& label) {
  const std::unordered_map<std::string, std::string> spec = {
      {"model_type", model_type},
      {"vocab_size", std::to_string(vocab_size)},
      {"character_coverage", "1.0"},
      {"byte_fallback", "true"},
      {"unk_id", "0"},
      {"bos_id", "1"},
      {"eos_id", "2"},
      {"pad_id", "-1"},
      // Identity normalisation and kept whitespace make decode(encode(x)) == x, which matters for
      // fortunes whose layout (indentation, attributions) is part of the text.
      {"normalization_rule_name", "identity"},
      {"remove_extra_whitespaces", "false"},
      {"allow_whitespace_only_pieces", "true"},
      {"num_threads", "2"},
      {"minloglevel", "2"},
  };
  sentencepiece::SetRandomGeneratorSeed(static_cast<unsigned>(seed));
  LineIterator it(lines);
  std::string model_bytes;
  auto status = sentencepiece::SentencePieceTrainer::Train(spec, &it, &model_bytes);
  if (!status.ok()) {
    // SentencePiece messages start with "./src/file.cc(line) [(check)] "; keep the sentence only.
    std::string msg = status.error_message();
    if (size_t k = msg.find(")] "); msg.rfind("./src/", 0) == 0 && k != std::string::npos)
      msg = msg.substr(k + 3);
    const std::string vocab = "vocab_size " + std::to_string(vocab_size);
    if (msg.find("too high") != std::string::npos) {
      std::string limit;
      if (size_t k = msg.find("<= "); k != std::string::npos)
        limit = msg.substr(k + 3, msg.find_first_not_of("0123456789", k + 3) - (k + 3));
      throw UserError(label + ": " + vocab + " is too large for this corpus" +
                      (limit.empty() ? std::string()
                                     : "; SentencePiece can build at most " + limit + " pieces") +
                      ", use a smaller --vocab_size");
    }
    if (msg.find("required_chars") != std::string::npos) {
      // "Vocabulary size is smaller than required_chars. 270 vs 295. ..."
      std::string need;
      if (size_t k = msg.find(" vs "); k != std::string::npos)
        need = msg.substr(k + 4, msg.find_first_not_of("0123456789", k + 4) - (k + 4));
      throw UserError(label + ": " + vocab +
                      " is too small: the 259 byte-fallback and special pieces plus one per "
                      "distinct character of the corpus need " +
                      (need.empty() ? std::string("more") : need) + ", use a larger --vocab_size");
    }
    throw UserError(label + ": tokenizer training failed: " + msg);
  }
  return model_bytes;
}

}  // namespace normlab
