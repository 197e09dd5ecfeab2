// One optimizer step, the same for `normlab train` (trainer.cpp) and for the short runs of the
// depth sanity check (sanity_check.cpp), so that a check trains exactly as a run would:
//   g     = (1/A) sum_{m<A} dLoss(batch (step-1)*A + m)/dtheta   (A = grad_accum micro-batches,
//           micro-batch i drawn and dropout-seeded by its index i alone: bit-exact resume)
//   |g|   = global gradient norm, before clipping
//   theta = AdamW(theta, clip(g, clip_norm), lr = schedule(step))
// A gate between the gradient and the update lets the trainer's stability monitor skip a step
// or stop the run.
#pragma once
#include <cstdint>
#include <functional>

#include "train/optimizer.hpp"
#include "train/schedule.hpp"
#include "train/task.hpp"

namespace normlab {

// The dropout seed of training micro-batch `index` of a run seeded with `seed`.
uint64_t dropout_seed(uint64_t seed, uint64_t index);

struct StepResult {
  double loss = 0;       // mean over the micro-batches
  double grad_norm = 0;  // global norm of the averaged gradient, before clipping
  double lr = 0;         // schedule(step)
  long tokens = 0;       // target tokens of the micro-batches
  bool updated = false;  // false when the gate held the update back
};

class TrainingStep {
 public:
  TrainingStep(TrainingTask& task, AdamW& optimizer, const Schedule& schedule, long grad_accum,
               uint64_t seed);
  // Decides, from the step's loss and gradient, whether the update is applied.
  using Gate = std::function<bool(const StepResult&)>;
  // Step `step` (1-based). With record_grad_norms the model records the per-block gradient
  // norms of the last micro-batch (for the diagnostics probes).
  StepResult run(long step, bool record_grad_norms = false, const Gate& gate = {});

 private:
  TrainingTask& task_;
  AdamW& optimizer_;
  const Schedule& schedule_;
  long accum_;
  uint64_t seed_;
};

}  // namespace normlab
