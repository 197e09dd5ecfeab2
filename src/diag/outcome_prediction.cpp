#include "diag/outcome_prediction.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace normlab {

namespace {

// Thresholds on the trial's gain over the unigram loss, g = U - end_loss (nats). A run that
// ends more than kDivergeExcess above U has been thrown off (the validation rule's own bound).
// A trial that got below the unigram plateau at all (by more than the noise of its end loss,
// about 0.03 nats) has found the context and goes on to train; one that stays on the plateau
// (Post-LN's vanishing bottom updates, too high or too low a learning rate) stalls. Chosen on
// the tuning set of the validation (docs/sanity-check.md): trials of runs that stalled ended at
// g = -0.13 .. -0.01, of runs that trained at g = 0.05 .. 0.12.
constexpr double kDivergeExcess = 0.5;
constexpr double kTrainGain = 0.03;
// Confidence grows from 0.5 at a threshold to its cap kConfidenceScale nats away from it.
constexpr double kConfidenceScale = 0.15;

std::string fmt(const char* f, double a, double b = 0, double c = 0) {
  char buf[200];
  std::snprintf(buf, sizeof buf, f, a, b, c);
  return buf;
}

double confidence_at(double distance) {
  return 0.5 + 0.45 * std::min(1.0, std::abs(distance) / kConfidenceScale);
}

}  // namespace

const char* to_string(Outcome o) {
  return o == Outcome::Trains ? "trains" : o == Outcome::Stalls ? "stalls" : "diverges";
}

OutcomePrediction predict_outcome(const TrialEvidence& e) {
  OutcomePrediction p;
  p.spiky = e.spikes > 0;
  const double gain = e.unigram_loss - e.end_loss;
  if (e.non_finite || !e.stop_reason.empty() || !std::isfinite(e.end_loss)) {
    p.outcome = Outcome::Diverges, p.confidence = 0.95;
    p.reasons.push_back(e.stop_reason.empty()
                            ? "non-finite values in the trial"
                            : "the trainer's monitor stopped the trial: " + e.stop_reason);
  } else if (-gain > kDivergeExcess) {
    p.outcome = Outcome::Diverges, p.confidence = confidence_at(-gain - kDivergeExcess);
    p.reasons.push_back(fmt("trial loss %.3f is %.2f above the unigram loss %.3f", e.end_loss,
                            -gain, e.unigram_loss));
  } else if (gain >= kTrainGain) {
    p.outcome = Outcome::Trains, p.confidence = confidence_at(gain - kTrainGain);
    p.reasons.push_back(fmt("trial loss %.3f is %.2f below the unigram loss %.3f", e.end_loss, gain,
                            e.unigram_loss));
  } else {
    p.outcome = Outcome::Stalls, p.confidence = confidence_at(gain - kTrainGain);
    p.reasons.push_back(fmt("trial loss %.3f is within %.2f of the unigram loss %.3f", e.end_loss,
                            kTrainGain, e.unigram_loss));
  }
  if (e.update_top > 0)
    p.reasons.push_back(fmt("update |dW|/|W| bottom %.2g, top %.2g (bottom/top %.2g)",
                            e.update_bottom, e.update_top, e.update_bottom / e.update_top));
  if (e.adam_eps > 0 && e.grad_rms_bottom < 10 * e.adam_eps)
    p.reasons.push_back(
        fmt("bottom-block gradient rms %.2g is within 10x of Adam's eps %.2g: "
            "its updates are damped",
            e.grad_rms_bottom, e.adam_eps));
  if (p.spiky) p.reasons.push_back(fmt("%.0f loss spike(s) in the trial", double(e.spikes)));
  return p;
}

}  // namespace normlab
