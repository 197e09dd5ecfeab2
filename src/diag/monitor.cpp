#include "diag/monitor.hpp"

#include <cmath>

namespace normlab {

StabilitySettings StabilitySettings::from_config(const Config& c) {
  StabilitySettings s;
  s.diag_every = c.get_int("diag_every");
  s.spike_window = std::max(2L, c.get_int("spike_window"));
  s.spike_k = c.get_float("spike_k");
  s.diverge_loss = c.get_float("diverge_loss");
  s.outlier_z = c.get_float("outlier_z");
  s.skip_outliers = c.get_bool("skip_outliers");
  return s;
}

double StabilityMonitor::zscore(const std::deque<double>& w, double v, double* mean, double* std) {
  double s = 0, s2 = 0;
  for (double x : w) s += x, s2 += x * x;
  const double n = static_cast<double>(w.size());
  *mean = s / n;
  *std = std::sqrt(std::max(0.0, s2 / n - *mean * *mean));
  return *std > 0 ? (v - *mean) / *std : 0.0;
}

StepVerdict StabilityMonitor::observe(long step, double loss, double grad_norm) {
  last_spike_ = false;
  if (!std::isfinite(loss) || !std::isfinite(grad_norm)) {
    reason_ = "diverged at step " + std::to_string(step) + ": " +
              (!std::isfinite(loss) ? "loss is " + std::to_string(loss)
                                    : "gradient norm is " + std::to_string(grad_norm));
    return StepVerdict::Diverged;
  }
  if (loss > s_.diverge_loss) {
    reason_ = "diverged at step " + std::to_string(step) + ": loss " + std::to_string(loss) +
              " above diverge_loss " + std::to_string(s_.diverge_loss);
    return StepVerdict::Diverged;
  }
  bool outlier = false;
  // Statistics need a few points before they mean anything.
  if (losses_.size() >= 10) {
    double mean, std;
    const double z_loss = zscore(losses_, loss, &mean, &std);
    if (std > 0 && loss > mean + s_.spike_k * std) last_spike_ = true, ++spikes_;
    double nm, ns;
    const double z_norm = zscore(norms_, grad_norm, &nm, &ns);
    outlier = z_loss > s_.outlier_z || z_norm > s_.outlier_z;
  }
  if (s_.skip_outliers && outlier) {
    ++skipped_;
    return StepVerdict::Skip;  // not added to the window: it would widen what counts as normal
  }
  losses_.push_back(loss);
  norms_.push_back(grad_norm);
  if (static_cast<long>(losses_.size()) > s_.spike_window) losses_.pop_front(), norms_.pop_front();
  return StepVerdict::Apply;
}

}  // namespace normlab
