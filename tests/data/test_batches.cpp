#include <gtest/gtest.h>

#include <set>

#include "core/config.hpp"
#include "data/batches.hpp"

using normlab::BatchSampler;

namespace {

std::vector<int32_t> ramp(int n) {
  std::vector<int32_t> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<size_t>(i)] = i;
  return v;
}

TEST(Batches, DeterministicAndShifted) {
  const auto tokens = ramp(5000);
  const int B = 4, T = 16;
  BatchSampler a(tokens, B, T, 42, "train.bin"), b(tokens, B, T, 42, "train.bin");
  std::vector<int32_t> x1(B * T), y1(B * T), x2(B * T), y2(B * T);
  for (uint64_t k : {0ull, 1ull, 123456789ull}) {
    a.sample(k, x1.data(), y1.data());
    b.sample(k, x2.data(), y2.data());
    EXPECT_EQ(x1, x2);
    EXPECT_EQ(y1, y2);
    for (int r = 0; r < B; ++r) {
      for (int t = 0; t < T; ++t) {
        // The ramp makes a window of consecutive tokens visible: x[t] = start + t, y[t] = x[t] + 1.
        EXPECT_EQ(x1[r * T + t], x1[r * T] + t);
        EXPECT_EQ(y1[r * T + t], x1[r * T + t] + 1);
      }
      EXPECT_LE(y1[r * T + T - 1], 4999);
    }
  }
  // Different index or seed gives a different batch.
  a.sample(0, x1.data(), y1.data());
  a.sample(1, x2.data(), y2.data());
  EXPECT_NE(x1, x2);
  BatchSampler c(tokens, B, T, 43, "train.bin");
  c.sample(0, x2.data(), y2.data());
  EXPECT_NE(x1, x2);
}

TEST(Batches, StartsCoverTheStream) {
  // With N = T + 3 there are 3 possible starts; all must occur, and none beyond.
  const int T = 8;
  const auto tokens = ramp(T + 3);
  BatchSampler s(tokens, 1, T, 7, "x");
  std::set<int32_t> starts;
  std::vector<int32_t> x(T), y(T);
  for (uint64_t k = 0; k < 200; ++k) {
    s.sample(k, x.data(), y.data());
    starts.insert(x[0]);
  }
  EXPECT_EQ(starts, (std::set<int32_t>{0, 1, 2}));
}

TEST(Batches, EvalWindows) {
  const int B = 3, T = 10;
  const auto tokens = ramp(71);  // W = floor(70 / 10) = 7 windows -> 3 batches
  BatchSampler s(tokens, B, T, 1, "valid.bin");
  ASSERT_EQ(s.num_eval_batches(), 3u);
  std::vector<int32_t> x(B * T), y(B * T);
  std::vector<int32_t> firsts;
  for (uint64_t k = 0; k < 3; ++k) {
    s.eval_batch(k, x.data(), y.data());
    for (int r = 0; r < B; ++r) {
      firsts.push_back(x[r * T]);
      for (int t = 0; t < T; ++t) EXPECT_EQ(y[r * T + t], x[r * T + t] + 1);
    }
  }
  // Windows step by T; the last batch wraps around to the first windows.
  EXPECT_EQ(firsts, (std::vector<int32_t>{0, 10, 20, 30, 40, 50, 60, 0, 10}));
}

TEST(Batches, TooShortIsUserError) {
  const auto tokens = ramp(16);
  EXPECT_NO_THROW(BatchSampler(tokens, 2, 15, 1, "valid.bin"));
  try {
    BatchSampler s(tokens, 2, 16, 1, "valid.bin");
    FAIL();
  } catch (const normlab::UserError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("valid.bin: ", 0), 0u) << e.what();
  }
}

}  // namespace
