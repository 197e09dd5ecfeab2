// The depth sanity check (docs/sanity-check.md): the fits and verdicts on synthetic sequences
// whose law is known exactly, and the whole check on tiny models whose behaviour the theory
// predicts (Kan et al. 2025; Takase et al. 2023): an unnormalised residual stack with Xavier init
// and dt = 1 grows exponentially, Peri-LN at most linearly, Post-LN stays bounded.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "core/config.hpp"
#include "diag/sanity_check.hpp"

using namespace normlab;

namespace {

const std::vector<int> kDepths = {2, 4, 8, 16, 32, 64};

std::vector<double> law(const std::vector<int>& depths, double (*f)(double)) {
  std::vector<double> r;
  for (int L : depths) r.push_back(f(L));
  return r;
}

}  // namespace

TEST(SanityFit, LineIsExactOnALine) {
  LineFit f = fit_line({1, 2, 3, 4}, {3, 5, 7, 9});
  EXPECT_NEAR(f.slope, 2.0, 1e-12);
  EXPECT_NEAR(f.intercept, 1.0, 1e-12);
  EXPECT_NEAR(f.rss, 0.0, 1e-20);
}

TEST(SanityFit, ExponentialGrowth) {
  // r = 0.5 * 1.3^L: log r is a line in L with slope log 1.3.
  auto s =
      fit_depth_scaling(kDepths, law(kDepths, [](double L) { return 0.5 * std::pow(1.3, L); }));
  EXPECT_EQ(s.points, 6);
  EXPECT_NEAR(s.exponential.slope, std::log(1.3), 1e-9);
  EXPECT_NEAR(s.exponential.rss, 0.0, 1e-12);
  EXPECT_GT(s.power.rss, 1.0);
  EXPECT_EQ(classify_forward(s), ForwardClass::Exponential);
  EXPECT_EQ(classify_backward(s), BackwardClass::Exploding);
}

TEST(SanityFit, ExponentialOnFewDepths) {
  const std::vector<int> d = {2, 4, 8, 16};
  auto s = fit_depth_scaling(d, law(d, [](double L) { return std::pow(1.15, L); }));
  EXPECT_EQ(classify_forward(s), ForwardClass::Exponential);
}

TEST(SanityFit, LinearGrowth) {
  auto s = fit_depth_scaling(kDepths, law(kDepths, [](double L) { return 0.7 * L; }));
  EXPECT_NEAR(s.power.slope, 1.0, 1e-9);
  EXPECT_NEAR(s.power.rss, 0.0, 1e-12);
  EXPECT_NEAR(s.affine_rss, 0.0, 1e-12);
  EXPECT_EQ(classify_forward(s), ForwardClass::Linear);
}

TEST(SanityFit, SquareRootAndAffineGrowthAreLinear) {
  auto s = fit_depth_scaling(kDepths, law(kDepths, [](double L) { return std::sqrt(L); }));
  EXPECT_NEAR(s.power.slope, 0.5, 1e-9);
  EXPECT_EQ(classify_forward(s), ForwardClass::Linear);
  // A large offset bends log r like a slow exponential at small depths; the affine law keeps it
  // on the linear side.
  auto a = fit_depth_scaling(kDepths, law(kDepths, [](double L) { return 3 + 0.2 * L; }));
  EXPECT_NEAR(a.affine_rss, 0.0, 1e-12);
  EXPECT_EQ(classify_forward(a), ForwardClass::Linear);
}

TEST(SanityFit, ConstantIsBoundedAndFlat) {
  auto s = fit_depth_scaling(kDepths, law(kDepths, [](double) { return 2.5; }));
  EXPECT_NEAR(s.constant_rss, 0.0, 1e-20);
  EXPECT_NEAR(s.power.slope, 0.0, 1e-12);
  EXPECT_EQ(classify_forward(s), ForwardClass::Bounded);
  EXPECT_EQ(classify_backward(s), BackwardClass::Flat);
}

TEST(SanityFit, GradientDirections) {
  auto vanish = fit_depth_scaling(kDepths, law(kDepths, [](double L) { return std::pow(0.9, L); }));
  EXPECT_EQ(classify_backward(vanish), BackwardClass::Vanishing);
  auto vanish_power = fit_depth_scaling(kDepths, law(kDepths, [](double L) { return 2 / L; }));
  EXPECT_EQ(classify_backward(vanish_power), BackwardClass::Vanishing);
  // A ratio within a factor 4 of 1 at every depth is flat, whatever its slope.
  auto mild = fit_depth_scaling(kDepths, law(kDepths, [](double L) { return std::pow(L, 0.3); }));
  EXPECT_EQ(classify_backward(mild), BackwardClass::Flat);
  // A constant offset is not a depth trend.
  auto offset = fit_depth_scaling(kDepths, law(kDepths, [](double) { return 10.0; }));
  EXPECT_EQ(classify_backward(offset), BackwardClass::Flat);
}

TEST(SanityFit, OverflowAndMissingPoints) {
  auto s = fit_depth_scaling(kDepths, {2, 8, 100, 1e6, INFINITY, NAN});
  EXPECT_TRUE(s.overflow);
  EXPECT_EQ(s.points, 4);
  EXPECT_EQ(classify_forward(s), ForwardClass::Exponential);
  EXPECT_EQ(classify_backward(s), BackwardClass::Exploding);
  auto few = fit_depth_scaling(kDepths, {1, 2, NAN, NAN, NAN, NAN});
  EXPECT_FALSE(few.overflow);
  EXPECT_EQ(classify_forward(few), ForwardClass::Undetermined);
  EXPECT_EQ(classify_backward(few), BackwardClass::Undetermined);
}

TEST(SanityMarkov, DeterministicLearnableChain) {
  auto a = markov_tokens(50, 20000, 7), b = markov_tokens(50, 20000, 7);
  EXPECT_EQ(a, b);
  std::vector<std::set<int32_t>> next(50);
  for (size_t i = 0; i + 1 < a.size(); ++i) {
    ASSERT_GE(a[i], 0);
    ASSERT_LT(a[i], 50);
    next[a[i]].insert(a[i + 1]);
  }
  for (const auto& s : next) EXPECT_LE(s.size(), 4u);  // four successors per id
  EXPECT_NE(markov_tokens(50, 1000, 8), std::vector<int32_t>(a.begin(), a.begin() + 1000));
  EXPECT_THROW(markov_tokens(1, 10, 1), UserError);
}

namespace {

Config tiny(const std::string& placement) {
  Config c = Config::defaults();
  c.set("vocab_size", "64", "test");
  c.set("d_model", "32", "test");
  c.set("n_heads", "2", "test");
  c.set("d_ff", "64", "test");
  c.set("seq_len", "16", "test");
  c.set("batch_size", "4", "test");
  c.set("warmup", "2", "test");
  c.set("placement", placement, "test");
  c.set("init", "xavier", "test");  // explicit: `none` would default to T-Fixup
  c.set("dt", "1", "test");
  return c;
}

SanityReport check(const std::string& placement, int train_steps) {
  SanityOptions o;
  o.depths = {2, 4, 8, 16};
  o.train_steps = train_steps;
  o.init_seeds = 2;
  o.batches = 1;
  return run_sanity_check(tiny(placement), o, markov_tokens(64, 4096, 3), "markov");
}

}  // namespace

TEST(SanityCheck, UnnormalisedStackGrowsExponentially) {
  SanityReport r = check("none", 0);
  ASSERT_EQ(r.depths.size(), 4u);
  EXPECT_EQ(classify_forward(r.forward_init), ForwardClass::Exponential) << format_report(r);
  EXPECT_GT(r.forward_init.exponential.slope, 0.1);
}

TEST(SanityCheck, PeriLnIsNotExponential) {
  SanityReport r = check("peri", 5);
  const ForwardClass init = classify_forward(r.forward_init);
  const ForwardClass trained = classify_forward(r.forward_trained);
  EXPECT_TRUE(init == ForwardClass::Bounded || init == ForwardClass::Linear) << format_report(r);
  EXPECT_TRUE(trained == ForwardClass::Bounded || trained == ForwardClass::Linear)
      << format_report(r);
  for (const DepthResult& d : r.depths) {
    EXPECT_TRUE(std::isfinite(d.last_loss));
    EXPECT_GT(d.init.forward, 0);
  }
}

TEST(SanityCheck, PostLnForwardIsBounded) {
  SanityReport r = check("post", 0);
  EXPECT_EQ(classify_forward(r.forward_init), ForwardClass::Bounded) << format_report(r);
  // Every block ends in a LayerNorm with unit gain: the top state has rms ~1 at any depth.
  for (const DepthResult& d : r.depths) EXPECT_NEAR(d.init.top_rms, 1.0, 0.05);
}

TEST(SanityCheck, ReportAndJsonAgree) {
  SanityReport r = check("pre", 2);
  const std::string table = format_report(r);
  EXPECT_NE(table.find("forward   init"), std::string::npos) << table;
  EXPECT_NE(table.find("gradient  trained:2"), std::string::npos) << table;
  nlohmann::json j = report_json(r);
  ASSERT_EQ(j["depths"].size(), 4u);
  EXPECT_EQ(j["depths"][2]["depth"], 8);
  EXPECT_EQ(j["verdicts"]["init"]["forward"]["verdict"],
            to_string(classify_forward(r.forward_init)));
  EXPECT_TRUE(j["verdicts"].contains("trained"));
  EXPECT_EQ(j["config"]["placement"], "pre");
}

TEST(SanityCheck, RejectsBadDepths) {
  SanityOptions o;
  o.depths = {};
  EXPECT_THROW(run_sanity_check(tiny("pre"), o, markov_tokens(64, 4096, 3), "m"), UserError);
  o.depths = {2, 0};
  EXPECT_THROW(run_sanity_check(tiny("pre"), o, markov_tokens(64, 4096, 3), "m"), UserError);
}
