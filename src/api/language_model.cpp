// The installed LanguageModel over normlab's DecoderLM (include/normlab/language_model.hpp).
#include <optional>
#include <stdexcept>

#include "api/language_model_impl.hpp"
#include "core/config.hpp"
#include "train/task.hpp"

namespace normlab::api {

LanguageModel::LanguageModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LanguageModel::LanguageModel(LanguageModel&&) noexcept = default;
LanguageModel& LanguageModel::operator=(LanguageModel&&) noexcept = default;
LanguageModel::~LanguageModel() = default;

LanguageModel LanguageModel::load(const std::string& checkpoint) {
  auto impl = std::make_unique<Impl>();
  impl->lm = load_model_as<DecoderLM>(checkpoint, &impl->info, "a language model (arch=lm)");
  impl->lm->training = false;
  return LanguageModel(std::move(impl));
}

namespace {
// A model of `config` plus `options`, initialised from `seed`, or from the config's seed.
std::unique_ptr<LanguageModel::Impl> initialised(Config config, const Options& options,
                                                 std::optional<std::uint64_t> seed) {
  for (const auto& [key, value] : options) config.set(key, value, "options");
  if (config.get_string("arch") != "lm")
    throw UserError("option 'arch': the library's LanguageModel is arch=lm");
  auto impl = std::make_unique<LanguageModel::Impl>();
  impl->lm = std::make_unique<DecoderLM>(config);
  impl->lm->initialize(seed.value_or(static_cast<std::uint64_t>(config.get_int("seed"))));
  impl->lm->training = false;
  return impl;
}
}  // namespace

LanguageModel LanguageModel::init(const Options& options, std::uint64_t seed) {
  return LanguageModel(initialised(Config::defaults(), options, seed));
}

LanguageModel LanguageModel::from_config(const Options& options, const std::string& config_file) {
  Config config = Config::defaults();
  if (!config_file.empty()) config.merge_file(config_file);
  return LanguageModel(initialised(std::move(config), options, std::nullopt));
}

int LanguageModel::vocab_size() const {
  return impl_->lm->shape().vocab;
}
int LanguageModel::max_seq_len() const {
  return static_cast<int>(impl_->lm->config().get_int("seq_len"));
}
std::string LanguageModel::config_json() const {
  return impl_->lm->config().to_json().dump();
}

void LanguageModel::plan(int batch, int seq_len) {
  if (batch < 1 || seq_len < 1 || seq_len > max_seq_len())
    throw UserError("plan: batch " + std::to_string(batch) + " x seq_len " +
                    std::to_string(seq_len) + " (seq_len must lie in 1.." +
                    std::to_string(max_seq_len()) + ")");
  impl_->lm->plan(batch, seq_len);
  impl_->planned_batch = batch;
  impl_->planned_seq = seq_len;
}

double LanguageModel::forward(const std::int32_t* inputs, const std::int32_t* targets, int batch,
                              int seq_len) {
  if (batch > impl_->planned_batch || seq_len > impl_->planned_seq)
    throw std::logic_error("LanguageModel::forward: batch " + std::to_string(batch) + " x " +
                           std::to_string(seq_len) + " exceeds the plan (call plan first)");
  const double loss =
      impl_->lm->forward(inputs, targets, batch, seq_len, label_smoothing(impl_->lm->config()));
  impl_->has_forward = true;
  return loss;
}

void LanguageModel::backward() {
  if (!impl_->has_forward) throw std::logic_error("LanguageModel::backward: no forward yet");
  impl_->lm->backward();
}

void LanguageModel::zero_grads() {
  impl_->lm->params().zero_grads();
}
void LanguageModel::set_training(bool on) {
  impl_->lm->training = on;
}

std::vector<std::string> LanguageModel::parameter_names() const {
  std::vector<std::string> names;
  for (const auto& e : impl_->lm->params().entries()) names.push_back(e.name);
  return names;
}

namespace {
std::size_t index_of(const ParamStore& p, const std::string& name) {
  if (!p.find(name)) throw UserError("parameter '" + name + "': no such parameter");
  return p.index_of(name);
}
}  // namespace

std::vector<std::int64_t> LanguageModel::parameter_shape(const std::string& name) const {
  const ParamStore& p = impl_->lm->params();
  return p.entries()[index_of(p, name)].shape;
}
float* LanguageModel::parameter(const std::string& name) {
  ParamStore& p = impl_->lm->params();
  return p.value(index_of(p, name));
}
float* LanguageModel::gradient(const std::string& name) {
  ParamStore& p = impl_->lm->params();
  return p.grad(index_of(p, name));
}
std::size_t LanguageModel::parameter_count() const {
  return impl_->lm->params().parameter_count();
}

void LanguageModel::save(const std::string& path) const {
  save_model(path, *impl_->lm, impl_->info);
}

}  // namespace normlab::api
