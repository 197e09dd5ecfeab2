// The whole depth sanity check (train/sanity_check.hpp) on tiny models whose behaviour the theory
// predicts (Kan et al. 2025; Takase et al. 2023): an unnormalised residual stack with Xavier init
// and dt = 1 grows exponentially, Peri-LN at most linearly, Post-LN stays bounded.
#include <gtest/gtest.h>

#include <cmath>

#include "core/config.hpp"
#include "data/markov_chain.hpp"
#include "train/sanity_check.hpp"

using namespace normlab;

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
