// AdamW for a LanguageModel, with normlab's settings (docs/library.md).
#pragma once
#include <memory>

#include "normlab/language_model.hpp"

namespace normlab::api {

class AdamW {
 public:
  // beta1, beta2, adam_eps, weight_decay, decay_all and clip_norm from the model's config,
  // overridden by `overrides`. The model must outlive the optimizer.
  explicit AdamW(LanguageModel& model, const Options& overrides = {});
  AdamW(AdamW&&) noexcept;
  ~AdamW();
  // Clips the gradients (clip_norm > 0) and updates every parameter at learning rate lr.
  // Returns the global gradient norm before clipping.
  double step(float lr);
  long steps() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace normlab::api
