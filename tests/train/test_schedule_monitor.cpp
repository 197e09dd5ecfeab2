// Learning-rate schedules against their formulas, and the stability monitor's verdicts.
#include <gtest/gtest.h>

#include <cmath>

#include "diag/monitor.hpp"
#include "train/schedule.hpp"

using namespace normlab;

TEST(Schedule, WarmupThenInverseSqrt) {
  Schedule s{"inverse_sqrt", 1e-3, 0, 100, 1000};
  EXPECT_DOUBLE_EQ(s.at(1), 1e-5);
  EXPECT_DOUBLE_EQ(s.at(50), 5e-4);
  EXPECT_DOUBLE_EQ(s.at(100), 1e-3);
  EXPECT_DOUBLE_EQ(s.at(400), 1e-3 * std::sqrt(100.0 / 400.0));
}

TEST(Schedule, CosineReachesMinAtTheEnd) {
  Schedule s{"cosine", 1e-3, 1e-4, 10, 110};
  EXPECT_DOUBLE_EQ(s.at(10), 1e-3);
  EXPECT_NEAR(s.at(60), 1e-4 + 0.5 * 9e-4, 1e-12);
  EXPECT_NEAR(s.at(110), 1e-4, 1e-12);
}

TEST(Schedule, Constant) {
  Schedule s{"constant", 2e-3, 0, 0, 10};
  EXPECT_DOUBLE_EQ(s.at(1), 2e-3);
  EXPECT_DOUBLE_EQ(s.at(9), 2e-3);
}

TEST(Monitor, DivergesOnNanAndOnBound) {
  StabilitySettings st;
  st.diverge_loss = 50;
  StabilityMonitor m(st);
  EXPECT_EQ(m.observe(1, 3.0, 1.0), StepVerdict::Apply);
  EXPECT_EQ(m.observe(2, NAN, 1.0), StepVerdict::Diverged);
  EXPECT_NE(m.reason().find("diverged at step 2"), std::string::npos);
  StabilityMonitor m2(st);
  EXPECT_EQ(m2.observe(7, 60.0, 1.0), StepVerdict::Diverged);
  StabilityMonitor m3(st);
  EXPECT_EQ(m3.observe(1, 3.0, INFINITY), StepVerdict::Diverged);
}

TEST(Monitor, DetectsSpikeAndSkipsOutlierOnlyWhenAsked) {
  for (bool skip : {false, true}) {
    StabilitySettings st;
    st.skip_outliers = skip;
    StabilityMonitor m(st);
    for (int i = 0; i < 30; ++i)
      ASSERT_EQ(m.observe(i, 3.0 + 0.01 * (i % 3), 1.0), StepVerdict::Apply);
    EXPECT_EQ(m.observe(31, 9.0, 1.0), skip ? StepVerdict::Skip : StepVerdict::Apply);
    EXPECT_EQ(m.last_was_spike(), true);
    EXPECT_EQ(m.spikes(), 1);
    EXPECT_EQ(m.skipped(), skip ? 1 : 0);
    EXPECT_EQ(m.observe(32, 3.01, 1.0), StepVerdict::Apply);
    EXPECT_FALSE(m.last_was_spike());
  }
}
