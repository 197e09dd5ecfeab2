// The evidence the sanity check predicts from (docs/sanity-check.md, "Prediction"): the unigram
// loss against a hand computation, the per-block update ratio against a direct recomputation,
// and the outcome read from evidence whose answer is plain.
#include <gtest/gtest.h>

#include <cmath>

#include "diag/block_updates.hpp"
#include "diag/outcome_prediction.hpp"
#include "diag/unigram_loss.hpp"

using namespace normlab;

TEST(UnigramLoss, MatchesAHandComputation) {
  // Counts 4, 2, 1, 1 of 8: U = -(1/2 ln 1/2 + 1/4 ln 1/4 + 2 * 1/8 ln 1/8) = 1.75 ln 2.
  const std::vector<int32_t> tokens = {0, 0, 1, 0, 2, 1, 0, 5};
  EXPECT_NEAR(unigram_loss(tokens), 1.75 * std::log(2.0), 1e-12);
  // One id only: nothing to predict. Uniform over 4 ids: ln 4.
  EXPECT_DOUBLE_EQ(unigram_loss({3, 3, 3}), 0.0);
  EXPECT_NEAR(unigram_loss({0, 1, 2, 3, 3, 2, 1, 0}), std::log(4.0), 1e-12);
  EXPECT_DOUBLE_EQ(unigram_loss({}), 0.0);
}

TEST(UnigramLoss, SurprisalOfEachIdAndItsMeanOverABatch) {
  // The same counts 4, 2, 1, 1 of 8 (ids 3 and 4 never occur): -ln p = ln 2, ln 4, ln 8, ln 8.
  const std::vector<int32_t> tokens = {0, 0, 1, 0, 2, 1, 0, 5};
  const std::vector<double> s = unigram_surprisal(tokens);
  ASSERT_EQ(s.size(), 6u);
  EXPECT_NEAR(s[0], std::log(2.0), 1e-12);
  EXPECT_NEAR(s[1], std::log(4.0), 1e-12);
  EXPECT_NEAR(s[2], std::log(8.0), 1e-12);
  EXPECT_NEAR(s[5], std::log(8.0), 1e-12);
  EXPECT_TRUE(std::isinf(s[3]) && std::isinf(s[4]));
  // Over the whole stream the mean surprisal is U itself; over a batch of rare ids it is higher.
  double mean = 0;
  for (int32_t t : tokens) mean += s[static_cast<size_t>(t)] / tokens.size();
  EXPECT_NEAR(mean, unigram_loss(tokens), 1e-12);
  EXPECT_GT((s[2] + s[5]) / 2, unigram_loss(tokens));
}

TEST(BlockUpdates, RatioAndGradientRmsMatchADirectRecomputation) {
  ParamStore p;
  p.add("tok_emb.weight", {4, 2}, ParamRole::Embedding);
  p.add("blocks.0.attn.qkv.weight", {2, 3}, ParamRole::Matrix);
  p.add("blocks.0.mlp.fc1.bias", {3}, ParamRole::Bias);
  p.add("blocks.1.attn.qkv.weight", {2, 2}, ParamRole::Matrix);
  p.add("final_norm.weight", {2}, ParamRole::Norm);
  p.allocate();
  for (size_t i = 0; i < p.values().size(); ++i) p.values()[i] = 0.1f * (i % 7) - 0.2f;
  BlockUpdates updates(p);
  ASSERT_EQ(updates.blocks(), 2);
  const std::vector<float> before = p.values();
  updates.snapshot(p);
  for (size_t i = 0; i < p.values().size(); ++i) {
    p.values()[i] += 0.01f * ((i % 3) - 1.0f);
    p.grads()[i] = 0.5f * (i % 5) - 1;
  }
  const auto ratios = updates.update_ratios(p);
  const auto rms = updates.grad_rms(p);
  for (int l = 0; l < 2; ++l) {
    double dw = 0, w = 0, g = 0;
    size_t n = 0;
    for (size_t i = 0; i < p.entries().size(); ++i) {
      const ParamEntry& e = p.entries()[i];
      if (e.name.rfind("blocks." + std::to_string(l) + ".", 0) != 0) continue;
      for (size_t k = e.offset; k < e.offset + e.numel; ++k) {
        dw += std::pow(double(p.values()[k]) - before[k], 2), w += std::pow(double(before[k]), 2);
        g += std::pow(double(p.grads()[k]), 2), ++n;
      }
    }
    EXPECT_NEAR(ratios[l], std::sqrt(dw / w), 1e-6) << "block " << l;
    EXPECT_NEAR(rms[l], std::sqrt(g / n), 1e-6) << "block " << l;
  }
}

namespace {
TrialEvidence evidence(double end_loss) {
  TrialEvidence e;
  e.unigram_loss = 5.0, e.end_loss = end_loss, e.first_loss = 6.2, e.steps = 50;
  e.update_bottom = 1e-2, e.update_top = 2e-2, e.grad_rms_bottom = 1e-3, e.adam_eps = 1e-8;
  return e;
}
}  // namespace

TEST(OutcomePrediction, PlainCases) {
  EXPECT_EQ(predict_outcome(evidence(4.0)).outcome, Outcome::Trains);
  // On the plateau: a little above the unigram level (here U, the batches' own level unknown).
  EXPECT_EQ(predict_outcome(evidence(5.05)).outcome, Outcome::Stalls);
  EXPECT_EQ(predict_outcome(evidence(7.0)).outcome, Outcome::Diverges);
  TrialEvidence nan = evidence(4.0);
  nan.non_finite = true, nan.stop_reason = "diverged at step 7: loss is nan";
  const OutcomePrediction p = predict_outcome(nan);
  EXPECT_EQ(p.outcome, Outcome::Diverges);
  ASSERT_FALSE(p.reasons.empty());
  EXPECT_NE(p.reasons[0].find("loss is nan"), std::string::npos);
  // Far from every threshold the confidence is high; it never reaches 1.
  const OutcomePrediction far = predict_outcome(evidence(3.0));
  EXPECT_GT(far.confidence, 0.9);
  EXPECT_LT(far.confidence, 1.0);
  TrialEvidence spiky = evidence(4.0);
  spiky.spikes = 2;
  EXPECT_TRUE(predict_outcome(spiky).spiky);
  EXPECT_FALSE(predict_outcome(evidence(4.0)).spiky);
}

TEST(OutcomePrediction, DampedBottomGradientIsReported) {
  TrialEvidence e = evidence(5.0);
  e.grad_rms_bottom = 3e-9;
  bool named = false;
  for (const std::string& r : predict_outcome(e).reasons)
    named = named || r.find("Adam's eps") != std::string::npos;
  EXPECT_TRUE(named);
}

// The two rules found on the tuning set (docs/sanity-check.md, "Prediction").
TEST(OutcomePrediction, SlowDescentStallsAndLateEscapeTrains) {
  // A trial far above U but still below its first loss (a low lr, coming down from ln V) has not
  // been thrown off; one that ended above where it started has.
  TrialEvidence slow = evidence(5.8);
  slow.first_loss = 6.2;
  EXPECT_EQ(predict_outcome(slow).outcome, Outcome::Stalls);
  slow.first_loss = 5.7;
  EXPECT_EQ(predict_outcome(slow).outcome, Outcome::Diverges);
  // On the plateau (0.05 above U) with the bottom block moving 2x the top: a late escape; with
  // the bottom block damped, or too far above the plateau, it stalls.
  TrialEvidence plateau = evidence(5.05);
  plateau.update_bottom = 2e-2, plateau.update_top = 1e-2;
  const OutcomePrediction late = predict_outcome(plateau);
  EXPECT_EQ(late.outcome, Outcome::Trains);
  ASSERT_FALSE(late.reasons.empty());
  EXPECT_NE(late.reasons[0].find("late escape"), std::string::npos);
  plateau.update_bottom = 1.4e-2;
  EXPECT_EQ(predict_outcome(plateau).outcome, Outcome::Stalls);
  plateau.update_bottom = 2e-2, plateau.end_loss = 5.25;
  EXPECT_EQ(predict_outcome(plateau).outcome, Outcome::Stalls);
}

// The trial's loss is read against the unigram model's loss on the trial's own batches, not
// against U: batches of frequent tokens put the plateau below U, rare ones above it.
TEST(OutcomePrediction, ThePlateauIsTheLevelOfTheTrialsOwnBatches) {
  TrialEvidence e = evidence(4.95);  // 0.05 below U
  EXPECT_EQ(predict_outcome(e).outcome, Outcome::Trains);
  e.end_unigram_loss = 4.9;  // but 0.05 above the unigram model's loss on those tokens
  EXPECT_EQ(predict_outcome(e).outcome, Outcome::Stalls);
  e.end_unigram_loss = 5.1;
  const OutcomePrediction p = predict_outcome(e);
  EXPECT_EQ(p.outcome, Outcome::Trains);
  ASSERT_FALSE(p.reasons.empty());
  EXPECT_NE(p.reasons[0].find("5.100"), std::string::npos) << p.reasons[0];
}
