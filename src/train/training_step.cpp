#include "train/training_step.hpp"

#include "core/rng.hpp"

namespace normlab {

uint64_t dropout_seed(uint64_t seed, uint64_t index) {
  return splitmix64(seed * 0x9E37ull + index);
}

TrainingStep::TrainingStep(TrainingTask& task, AdamW& optimizer, const Schedule& schedule,
                           long grad_accum, uint64_t seed, const Ranks* ranks)
    : task_(task),
      optimizer_(optimizer),
      schedule_(schedule),
      accum_(grad_accum),
      seed_(seed),
      ranks_(ranks) {}

void TrainingStep::sum_gradients(long step, long lo, long hi, size_t depth, bool record,
                                 StepResult& r) {
  Model& model = task_.model();
  ParamStore& p = model.params();
  if (hi - lo == 1) {
    const uint64_t index = static_cast<uint64_t>((step - 1) * accum_ + lo);
    p.zero_grads();
    model.set_dropout_seed(dropout_seed(seed_, index));
    model.record_grad_norms = record && lo == accum_ - 1;
    long tokens = 0;
    r.loss += task_.train_batch(index, &tokens) / accum_;
    r.tokens += tokens;
    model.record_grad_norms = false;
    return;
  }
  const long mid = lo + (hi - lo) / 2;
  sum_gradients(step, lo, mid, depth + 1, record, r);
  if (partial_.size() <= depth) partial_.resize(depth + 1);
  partial_[depth] = p.grads();
  sum_gradients(step, mid, hi, depth + 1, record, r);
  std::vector<float>& g = p.grads();
  for (size_t i = 0; i < g.size(); ++i) g[i] += partial_[depth][i];
}

StepResult TrainingStep::run(long step, bool record_grad_norms, const Gate& gate) {
  ParamStore& p = task_.model().params();
  StepResult r;
  const long n = ranks_ ? ranks_->size() : 1, block = n - 1 - (ranks_ ? ranks_->rank() : 0);
  const long first = block * accum_ / n, end = (block + 1) * accum_ / n;
  if (first < end)
    sum_gradients(step, first, end, 0, record_grad_norms, r);
  else
    p.zero_grads();  // more ranks than micro-batches: this one adds nothing
  if (ranks_) {
    ranks_->sum(p.grads().data(), p.grads().size());
    double totals[2] = {r.loss, static_cast<double>(r.tokens)};
    ranks_->sum(totals, 2);
    r.loss = totals[0], r.tokens = static_cast<long>(totals[1]);
  }
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
