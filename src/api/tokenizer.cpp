// The installed Tokenizer over normlab's (include/normlab/tokenizer.hpp).
#include "normlab/tokenizer.hpp"

#include "data/tokenizer.hpp"
#include "model/checkpoint.hpp"

namespace normlab::api {

struct Tokenizer::Impl {
  normlab::Tokenizer tok;
};

Tokenizer::Tokenizer() = default;
Tokenizer::Tokenizer(const std::string& model_path)
    : impl_(new Impl{normlab::Tokenizer(model_path)}) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::of_checkpoint(const std::string& given) {
  const std::string checkpoint = checkpoint_file(given);
  CheckpointInfo info;
  const Config config = read_model_config(checkpoint, &info);
  Tokenizer t;
  t.impl_.reset(new Impl{
      checkpoint_tokenizer(checkpoint, "", info, static_cast<int>(config.get_int("vocab_size")))});
  return t;
}

std::vector<std::int32_t> Tokenizer::encode(const std::string& text) const {
  return impl_->tok.encode(text);
}
std::string Tokenizer::decode(const std::vector<std::int32_t>& ids) const {
  return impl_->tok.decode(ids);
}
int Tokenizer::vocab_size() const {
  return impl_->tok.vocab_size();
}
int Tokenizer::eos_id() const {
  return impl_->tok.eos_id();
}

}  // namespace normlab::api
