// The sanity check's per-depth prediction (docs/sanity-check.md, "Prediction"): will a real run
// of this config train, stall or diverge? Read from the evidence of a short trial at the run's
// own learning rate and schedule (warmup compressed), under Adam: the trial's loss against the
// data's unigram loss, non-finite values, loss spikes, and the per-block update sizes.
#pragma once
#include <limits>
#include <string>
#include <vector>

namespace normlab {

// What the short trial of one depth showed.
struct TrialEvidence {
  double unigram_loss = 0;  // U of the training tokens (unigram_loss.hpp)
  int steps = 0;            // steps the trial ran (fewer when it stopped at a non-finite value)
  double first_loss = 0;    // training loss at step 1
  double end_loss = 0;      // mean training loss over the trial's last tenth
  // The unigram model's loss on the same batches' targets (NaN: not known, U stands in).
  double end_unigram_loss = std::numeric_limits<double>::quiet_NaN();
  bool non_finite = false;  // a loss, gradient or activation was inf or NaN
  std::string stop_reason;  // the stability monitor's reason, when it stopped the trial (a
                            // non-finite value or a loss above diverge_loss)
  long spikes = 0;          // loss spikes the trainer's monitor counted during the trial
  // Means over the last fifth of the trial: |dW|/|W| and the gradient rms (after clipping) of
  // the bottom and the top block, and Adam's epsilon.
  double update_bottom = 0, update_top = 0;
  double grad_rms_bottom = 0, grad_rms_top = 0, adam_eps = 0;
  double grad_bottom_over_top = 0;  // |dLoss/dx_0| / |dLoss/dx_{L-1}| after the trial
  double forward_growth = 0;        // rms(x_L) / rms(x_0) after the trial
  double max_sublayer_rms = 0;      // the largest sublayer output rms at the last coord step
};

enum class Outcome { Trains, Stalls, Diverges };
const char* to_string(Outcome o);

struct OutcomePrediction {
  Outcome outcome = Outcome::Trains;
  bool spiky = false;
  double confidence = 0;             // in [0.5, 1): how far the evidence is from the thresholds
  std::vector<std::string> reasons;  // the evidence behind the outcome, most decisive first
};

OutcomePrediction predict_outcome(const TrialEvidence& e);

}  // namespace normlab
