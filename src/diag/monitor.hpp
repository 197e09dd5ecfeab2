// Loss-spike and divergence detection over a running window, and the optional skipping of
// outlier steps (a practice from large-model training: drop the update of a step whose loss or
// gradient norm is far outside its recent distribution instead of letting it derail the run).
#pragma once
#include <deque>
#include <string>

#include "core/config.hpp"

namespace normlab {

struct StabilitySettings {
  long diag_every = 100, spike_window = 50;
  double spike_k = 6, diverge_loss = 100, outlier_z = 6;
  bool skip_outliers = false;
  static StabilitySettings from_config(const Config& config);
};

enum class StepVerdict { Apply, Skip, Diverged };

class StabilityMonitor {
 public:
  explicit StabilityMonitor(const StabilitySettings& s) : s_(s) {}
  // Judges a step from its loss and (pre-clipping) gradient norm; records spikes.
  StepVerdict observe(long step, double loss, double grad_norm);
  long spikes() const { return spikes_; }
  long skipped() const { return skipped_; }
  bool last_was_spike() const { return last_spike_; }
  const std::string& reason() const { return reason_; }  // why Diverged

 private:
  static double zscore(const std::deque<double>& w, double v, double* mean, double* std);
  StabilitySettings s_;
  std::deque<double> losses_, norms_;
  long spikes_ = 0, skipped_ = 0;
  bool last_spike_ = false;
  std::string reason_;
};

}  // namespace normlab
