// Learning-rate schedules, each after a linear warmup over `warmup` steps (step is 1-based):
//   inverse_sqrt  lr * sqrt(warmup / step)                     (fairseq; Vaswani et al. 2017)
//   cosine        min_lr + (lr - min_lr) (1 + cos(pi p)) / 2,   p = (step - warmup) / (steps -
//   warmup) constant      lr
#pragma once
#include <string>

#include "core/config.hpp"

namespace normlab {

struct Schedule {
  std::string kind = "inverse_sqrt";
  double lr = 1e-3, min_lr = 0;
  long warmup = 0, steps = 1;
  double at(long step) const;
  // The schedule of `config` (schedule, lr, min_lr, warmup) over `steps` steps.
  static Schedule from_config(const Config& config, long steps);
};

}  // namespace normlab
