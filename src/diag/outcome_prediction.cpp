#include "diag/outcome_prediction.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace normlab {

namespace {

// Thresholds on the trial's gain over the unigram loss, g = U - end_loss (nats), chosen on the
// tuning set of the validation only (docs/sanity-check.md, "Prediction"; width 32, seed 1, the
// default trial of 200 steps of 2 sequences):
// - a trial that ends more than kDivergeExcess above U (the validation rule's own bound) above
//   where it started has been thrown off; one that is still coming down from ln V (a low learning
//   rate) has not;
// - a trial that ended below U (g > kTrainGain = 0) has found the context and goes on to train:
//   trials of runs that stalled ended at g <= -0.011, most runs that trained at g >= 0.002;
// - a trial still on the plateau (g > -kPlateau) whose bottom block moves at least
//   kLateEscapeRatio times as much as its top block (|dW|/|W|, Adam's normalised update) is a
//   late escape: the tuning set's pre and peri at lr 0.1 (bottom/top 1.8 .. 2.6) left the plateau
//   after the trial's length, the designs that stayed on it had bottom/top <= 1.1 (Post-LN,
//   B2T, DeepNorm: 0.07, their bottom updates damped).
constexpr double kDivergeExcess = 0.5;
constexpr double kTrainGain = 0.0;
constexpr double kPlateau = 0.15;
constexpr double kLateEscapeRatio = 1.5;
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
  } else if (-gain > kDivergeExcess && e.end_loss > e.first_loss) {
    p.outcome = Outcome::Diverges, p.confidence = confidence_at(-gain - kDivergeExcess);
    p.reasons.push_back(fmt("trial loss %.3f is %.2f above the unigram loss %.3f", e.end_loss,
                            -gain, e.unigram_loss));
  } else if (gain > kTrainGain) {
    p.outcome = Outcome::Trains, p.confidence = confidence_at(gain - kTrainGain);
    p.reasons.push_back(fmt("trial loss %.3f is %.3f below the unigram loss %.3f", e.end_loss, gain,
                            e.unigram_loss));
  } else if (gain > -kPlateau && e.update_top > 0 &&
             e.update_bottom >= kLateEscapeRatio * e.update_top) {
    const double ratio = e.update_bottom / e.update_top;
    p.outcome = Outcome::Trains;
    p.confidence = confidence_at(std::min(gain + kPlateau, (ratio - kLateEscapeRatio) * 0.1));
    p.reasons.push_back(
        fmt("trial loss %.3f is on the unigram plateau %.3f, but the bottom block "
            "moves %.2gx as much as the top: a late escape",
            e.end_loss, e.unigram_loss, ratio));
  } else {
    p.outcome = Outcome::Stalls, p.confidence = confidence_at(gain - kTrainGain);
    p.reasons.push_back(fmt(gain > -kDivergeExcess
                                ? "trial loss %.3f is not below the unigram loss %.3f"
                                : "trial loss %.3f is above the unigram loss %.3f, still coming "
                                  "down from the first loss",
                            e.end_loss, e.unigram_loss));
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
