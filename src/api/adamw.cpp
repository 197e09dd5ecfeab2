// The installed AdamW over normlab's (include/normlab/adamw.hpp).
#include "normlab/adamw.hpp"

#include "api/language_model_impl.hpp"
#include "train/optimizer.hpp"

namespace normlab::api {

struct AdamW::Impl {
  normlab::AdamW opt;
};

namespace {
AdamWSettings settings_of(const Config& model_config, const Options& overrides) {
  Config c = model_config;
  for (const auto& [key, value] : overrides) c.set(key, value, "options");
  return AdamWSettings::from_config(c);
}
}  // namespace

AdamW::AdamW(LanguageModel& model, const Options& overrides)
    : impl_(new Impl{
          normlab::AdamW(*model.impl_->lm, settings_of(model.impl_->lm->config(), overrides))}) {}
AdamW::AdamW(AdamW&&) noexcept = default;
AdamW::~AdamW() = default;
double AdamW::step(float lr) {
  return impl_->opt.step(lr);
}
long AdamW::steps() const {
  return impl_->opt.steps();
}

}  // namespace normlab::api
