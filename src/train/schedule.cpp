#include "train/schedule.hpp"

#include <algorithm>
#include <cmath>

namespace normlab {

double Schedule::at(long step) const {
  if (warmup > 0 && step <= warmup) return lr * static_cast<double>(step) / warmup;
  if (kind == "constant") return lr;
  if (kind == "inverse_sqrt")
    return lr * std::sqrt(static_cast<double>(std::max(warmup, 1L)) / step);
  const double span = std::max(1L, steps - warmup);
  const double p = std::min(1.0, static_cast<double>(step - warmup) / span);
  return min_lr + (lr - min_lr) * 0.5 * (1 + std::cos(M_PI * p));
}

Schedule Schedule::from_config(const Config& config, long steps) {
  return {config.get_string("schedule"), config.get_float("lr"), config.get_float("min_lr"),
          config.get_int("warmup"), steps};
}

}  // namespace normlab
