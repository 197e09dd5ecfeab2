// One optimizer step, the same for `normlab train` (trainer.cpp) and for the short runs of the
// depth sanity check (sanity_check.cpp), so that a check trains exactly as a run would:
//   g     = (1/A) sum_{m<A} dLoss(batch (step-1)*A + m)/dtheta   (A = grad_accum micro-batches,
//           micro-batch i drawn and dropout-seeded by its index i alone: bit-exact resume)
//   |g|   = global gradient norm, before clipping
//   theta = AdamW(theta, clip(g, clip_norm), lr = schedule(step))
// A gate between the gradient and the update lets the trainer's stability monitor skip a step
// or stop the run.
// The sum over micro-batches is a balanced binary tree (halves [lo, mid), [mid, hi), mid =
// lo + (hi - lo) / 2): a fixed order of float additions, whatever runs it.
// Data-parallel (docs/distributed.md): with N ranks, each sums a contiguous block of the A
// micro-batches and the blocks' sums are added over the ranks (allreduce) before the 1/A. For
// N = 2 (and any N a power of two dividing A) each block is a subtree, so the ranks reproduce one
// process's step bit for bit; otherwise up to the order of float additions. Ranks beyond A idle.
// Rank 0 takes the last block: it holds the micro-batch whose probes the diagnostics read.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "train/distributed.hpp"
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
               uint64_t seed, const Ranks* ranks = nullptr);
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
  const Ranks* ranks_;                       // null: one process
  std::vector<std::vector<float>> partial_;  // left subtree's sum at each depth of the tree

  // Gradient sum of micro-batches [lo, hi) of `step` into the model's grads (the tree above);
  // adds their losses / A and tokens to r.
  void sum_gradients(long step, long lo, long hi, size_t depth, bool record, StepResult& r);
};

}  // namespace normlab
