#include "train/training_step.hpp"

#include "core/rng.hpp"

namespace normlab {

uint64_t dropout_seed(uint64_t seed, uint64_t index) {
  return splitmix64(seed * 0x9E37ull + index);
}

TrainingStep::TrainingStep(TrainingTask& task, AdamW& optimizer, const Schedule& schedule,
                           long grad_accum, uint64_t seed)
    : task_(task), optimizer_(optimizer), schedule_(schedule), accum_(grad_accum), seed_(seed) {}

StepResult TrainingStep::run(long step, bool record_grad_norms, const Gate& gate) {
  Model& model = task_.model();
  ParamStore& p = model.params();
  StepResult r;
  p.zero_grads();
  for (long micro = 0; micro < accum_; ++micro) {
    const uint64_t index = static_cast<uint64_t>((step - 1) * accum_ + micro);
    model.set_dropout_seed(dropout_seed(seed_, index));
    model.record_grad_norms = record_grad_norms && micro == accum_ - 1;
    long tokens = 0;
    r.loss += task_.train_batch(index, &tokens) / accum_;
    r.tokens += tokens;
  }
  model.record_grad_norms = false;
  if (accum_ > 1) {
    const float s = 1.0f / static_cast<float>(accum_);
    for (auto& g : p.grads()) g *= s;
  }
  r.grad_norm = global_grad_norm(p);
  r.lr = schedule_.at(step);
  if (gate && !gate(r)) return r;
  optimizer_.step(static_cast<float>(r.lr), r.grad_norm);
  r.updated = true;
  return r;
}

}  // namespace normlab
