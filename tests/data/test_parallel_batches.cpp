#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <set>

#include "core/config.hpp"
#include "core/rng.hpp"
#include "data/parallel_batches.hpp"
#include "data/token_file.hpp"

namespace fs = std::filesystem;
using namespace normlab;

namespace {

constexpr int kVocab = 500;
constexpr int32_t kEos = 2;
const std::string kIdentity = "0123456789abcdef";

// Lengths of a synthetic pair (without EOS); the content of token j of pair i encodes (i, j) so
// that every copied row can be checked against its source.
int32_t src_token(size_t i, int j) {
  return 3 + static_cast<int32_t>((i * 31 + j * 7) % 490);
}
int32_t tgt_token(size_t i, int j) {
  return 3 + static_cast<int32_t>((i * 17 + j * 11) % 490);
}

struct ParallelBatchesTest : ::testing::Test {
  fs::path dir;
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("normlab_pbatch_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  std::string write(const std::string& name, const std::vector<int32_t>& tokens,
                    const std::string& identity = kIdentity) {
    TokenFile f;
    f.vocab_size = kVocab;
    f.tokenizer_identity = identity;
    f.tokens = tokens;
    const std::string path = (dir / name).string();
    write_token_file(path, f);
    return path;
  }

  // n pairs with source lengths 1..max_len (without EOS) and target lengths within +-30% of it,
  // drawn from a fixed generator.
  ParallelData corpus(size_t n, int max_len, std::vector<std::pair<int, int>>* lengths = nullptr) {
    Rng rng(99);
    std::vector<int32_t> src, tgt;
    for (size_t i = 0; i < n; ++i) {
      const int ls = 1 + static_cast<int>(rng.next_u64() % static_cast<uint64_t>(max_len));
      const int lt = std::max(1, static_cast<int>(ls * (0.7 + 0.6 * rng.uniform())));
      for (int j = 0; j < ls; ++j) src.push_back(src_token(i, j));
      for (int j = 0; j < lt; ++j) tgt.push_back(tgt_token(i, j));
      src.push_back(kEos);
      tgt.push_back(kEos);
      if (lengths) lengths->emplace_back(ls, lt);
    }
    return load_parallel_data(write("x.src.bin", src), write("x.tgt.bin", tgt), kVocab, kEos);
  }

  // Expects `f` to throw a UserError starting with `path: ` and containing `what`.
  template <typename F>
  static void expect_error(F f, const std::string& path, const std::string& what) {
    try {
      f();
      FAIL() << "no error, expected " << what;
    } catch (const UserError& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << msg;
      EXPECT_NE(msg.find(what), std::string::npos) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  }
};

// Checks that row r of `b` holds pair b.ids[r] of `data` in the documented layout.
void expect_rows(const ParallelData& data, const ParallelBatch& b) {
  ASSERT_EQ(b.src.size(), static_cast<size_t>(b.B) * b.S);
  ASSERT_EQ(b.tgt_in.size(), static_cast<size_t>(b.B) * b.T);
  ASSERT_EQ(b.tgt_out.size(), static_cast<size_t>(b.B) * b.T);
  long labels = 0;
  int S = 0, T = 0;
  for (int r = 0; r < b.B; ++r) {
    const size_t i = b.ids[static_cast<size_t>(r)];
    const int ls = data.src_len(i) - 1, lt = data.tgt_len(i) - 1;  // without EOS
    EXPECT_EQ(b.src_len[static_cast<size_t>(r)], ls + 1);
    EXPECT_EQ(b.tgt_len[static_cast<size_t>(r)], lt + 1);
    S = std::max(S, ls + 1);
    T = std::max(T, lt + 1);
    const int32_t* src = b.src.data() + static_cast<size_t>(r) * b.S;
    const int32_t* in = b.tgt_in.data() + static_cast<size_t>(r) * b.T;
    const int32_t* out = b.tgt_out.data() + static_cast<size_t>(r) * b.T;
    for (int j = 0; j < b.S; ++j)
      EXPECT_EQ(src[j], j < ls ? src_token(i, j) : j == ls ? kEos : 0) << "row " << r << " j " << j;
    for (int j = 0; j < b.T; ++j) {
      EXPECT_EQ(in[j], j == 0 ? kEos : j <= lt ? tgt_token(i, j - 1) : 0) << "row " << r;
      EXPECT_EQ(out[j], j < lt ? tgt_token(i, j) : j == lt ? kEos : -1) << "row " << r;
      labels += out[j] != -1;
    }
  }
  EXPECT_EQ(b.S, S);  // S and T are the batch maxima, not the global limits
  EXPECT_EQ(b.T, T);
  EXPECT_EQ(b.n_tokens, labels);
}

TEST_F(ParallelBatchesTest, ExactLayoutOfASmallBatch) {
  // Pairs: (7 8 | 9), (10 | 11 12 13). Lengths with EOS: (3, 2) and (2, 4).
  const auto src = write("a.src.bin", {7, 8, kEos, 10, kEos});
  const auto tgt = write("a.tgt.bin", {9, kEos, 11, 12, 13, kEos});
  const ParallelData data = load_parallel_data(src, tgt, kVocab, kEos, kIdentity);
  ASSERT_EQ(data.size(), 2u);
  ParallelBatchOptions o;
  o.max_tokens = 64;
  ParallelBatcher batcher(data, o);
  ASSERT_EQ(batcher.num_eval_batches(), 1u);
  ParallelBatch b;
  batcher.eval_batch(0, b);
  // Sorted by source length: pair 1 (src_len 2) first.
  EXPECT_EQ(b.B, 2);
  EXPECT_EQ(b.S, 3);
  EXPECT_EQ(b.T, 4);
  EXPECT_EQ(b.ids, (std::vector<uint32_t>{1, 0}));
  EXPECT_EQ(b.src, (std::vector<int32_t>{10, kEos, 0, 7, 8, kEos}));
  EXPECT_EQ(b.src_len, (std::vector<int32_t>{2, 3}));
  EXPECT_EQ(b.tgt_in, (std::vector<int32_t>{kEos, 11, 12, 13, kEos, 9, 0, 0}));
  EXPECT_EQ(b.tgt_out, (std::vector<int32_t>{11, 12, 13, kEos, 9, kEos, -1, -1}));
  EXPECT_EQ(b.tgt_len, (std::vector<int32_t>{4, 2}));
  EXPECT_EQ(b.n_tokens, 6);
  EXPECT_EQ(b.src_tokens, 5);
}

TEST_F(ParallelBatchesTest, TokenBudgetAndLayout) {
  const ParallelData data = corpus(3000, 40);
  for (int max_sentences : {0, 7}) {
    ParallelBatchOptions o;
    o.max_tokens = 200;
    o.max_sentences = max_sentences;
    o.seed = 5;
    ParallelBatcher batcher(data, o);
    const auto& st = batcher.stats();
    EXPECT_LE(st.max_src_cells, 200);
    EXPECT_LE(st.max_tgt_cells, 200);
    ParallelBatch b;
    bool some_full = false;
    for (uint64_t k = 0; k < 2 * batcher.batches_per_epoch(); ++k) {
      batcher.train_batch(k, b);
      EXPECT_LE(static_cast<long>(b.B) * b.S, o.max_tokens);
      EXPECT_LE(static_cast<long>(b.B) * b.T, o.max_tokens);
      if (max_sentences > 0) {
        EXPECT_LE(b.B, max_sentences);
      }
      EXPECT_LE(b.B, st.max_B);
      // Greedy packing: batches are close to the budget unless capped by max_sentences.
      some_full |= static_cast<long>(b.B + 1) * std::max(b.S, b.T) > o.max_tokens;
      expect_rows(data, b);
    }
    EXPECT_TRUE(some_full);
    if (max_sentences > 0) {
      EXPECT_EQ(st.max_B, max_sentences);
    }
  }
}

TEST_F(ParallelBatchesTest, EveryPairOncePerEpochAndLongPairsDropped) {
  std::vector<std::pair<int, int>> lengths;
  const ParallelData data = corpus(2500, 60, &lengths);
  ParallelBatchOptions o;
  o.max_tokens = 300;
  o.max_src_len = 41;  // lengths include EOS: up to 40 ids
  o.max_tgt_len = 36;
  ParallelBatcher batcher(data, o);
  std::vector<uint32_t> expected;
  for (size_t i = 0; i < lengths.size(); ++i)
    if (lengths[i].first + 1 <= 41 && lengths[i].second + 1 <= 36)
      expected.push_back(static_cast<uint32_t>(i));
  ASSERT_GT(expected.size(), 1000u);
  ASSERT_LT(expected.size(), 2500u);
  EXPECT_EQ(batcher.stats().kept, expected.size());
  EXPECT_EQ(batcher.stats().dropped_too_long, 2500u - expected.size());

  const uint64_t n = batcher.batches_per_epoch();
  ParallelBatch b;
  for (uint64_t epoch : std::vector<uint64_t>{0, 1, 7}) {
    std::vector<uint32_t> seen;
    for (uint64_t k = epoch * n; k < (epoch + 1) * n; ++k) {
      batcher.train_batch(k, b);
      seen.insert(seen.end(), b.ids.begin(), b.ids.end());
    }
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen, expected) << "epoch " << epoch;
  }
  std::vector<uint32_t> seen;
  uint64_t tokens = 0;
  for (uint64_t j = 0; j < batcher.num_eval_batches(); ++j) {
    batcher.eval_batch(j, b);
    seen.insert(seen.end(), b.ids.begin(), b.ids.end());
    tokens += static_cast<uint64_t>(b.n_tokens);
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(tokens, batcher.stats().tgt_tokens);
}

// Padding of greedy packing under the same budget, in a given order.
double padded_fraction(const ParallelData& data, const std::vector<uint32_t>& order, long budget) {
  uint64_t real = 0, cells = 0;
  int B = 0, S = 0, T = 0;
  auto close = [&] { cells += static_cast<uint64_t>(B) * static_cast<uint64_t>(S + T); };
  for (uint32_t i : order) {
    const int s = data.src_len(i), t = data.tgt_len(i);
    if (B > 0 && static_cast<long>(B + 1) * std::max({S, T, s, t}) > budget) {
      close();
      B = S = T = 0;
    }
    ++B;
    S = std::max(S, s);
    T = std::max(T, t);
    real += static_cast<uint64_t>(s + t);
  }
  close();
  return 1.0 - static_cast<double>(real) / static_cast<double>(cells);
}

TEST_F(ParallelBatchesTest, BucketingReducesPadding) {
  const ParallelData data = corpus(4000, 50);
  ParallelBatchOptions o;
  o.max_tokens = 512;
  ParallelBatcher batcher(data, o);
  const auto& st = batcher.stats();
  const double bucketed = 1.0 - static_cast<double>(st.src_tokens + st.tgt_tokens) /
                                    static_cast<double>(st.src_cells + st.tgt_cells);
  std::vector<uint32_t> shuffled(data.size());
  std::iota(shuffled.begin(), shuffled.end(), 0u);
  Rng rng(3);
  for (size_t i = shuffled.size(); i > 1; --i)
    std::swap(shuffled[i - 1], shuffled[rng.next_u64() % i]);
  const double random = padded_fraction(data, shuffled, o.max_tokens);
  // Uniform lengths in 1..50 waste about half the cells in random order; sorted, only the
  // target's spread within a source length remains.
  EXPECT_GT(random, 0.35);
  EXPECT_LT(bucketed, 0.15);
  // The batcher's own batches agree with the stats.
  uint64_t cells = 0;
  ParallelBatch b;
  for (uint64_t k = 0; k < batcher.batches_per_epoch(); ++k) {
    batcher.train_batch(k, b);
    cells += static_cast<uint64_t>(b.B) * static_cast<uint64_t>(b.S + b.T);
  }
  EXPECT_EQ(cells, st.src_cells + st.tgt_cells);
}

TEST_F(ParallelBatchesTest, DeterministicAndDirectlyRecomputable) {
  const ParallelData data = corpus(1500, 30);
  ParallelBatchOptions o;
  o.max_tokens = 160;
  o.seed = 11;
  ParallelBatcher a(data, o);
  const uint64_t n = a.batches_per_epoch();
  ASSERT_GT(n, 20u);
  // The whole sequence for three epochs, in order.
  std::vector<ParallelBatch> seq(3 * n);
  for (uint64_t k = 0; k < 3 * n; ++k) a.train_batch(k, seq[k]);
  // A fresh batcher asked for batch k directly (as on resume), in scattered order, agrees.
  for (uint64_t k : std::vector<uint64_t>{2 * n + 5, 0, n - 1, n, 3 * n - 1, n + 3}) {
    ParallelBatcher fresh(data, o);
    ParallelBatch b;
    fresh.train_batch(k, b);
    EXPECT_EQ(b.ids, seq[k].ids) << k;
    EXPECT_EQ(b.src, seq[k].src) << k;
    EXPECT_EQ(b.tgt_in, seq[k].tgt_in) << k;
    EXPECT_EQ(b.tgt_out, seq[k].tgt_out) << k;
  }
  // Epochs differ: both in the order of the batches and in which pairs share a batch.
  std::set<std::vector<uint32_t>> e0, e1;
  int same_position = 0;
  for (uint64_t p = 0; p < n; ++p) {
    auto x = seq[p].ids, y = seq[n + p].ids;
    same_position += x == y;
    std::sort(x.begin(), x.end());
    std::sort(y.begin(), y.end());
    e0.insert(x);
    e1.insert(y);
  }
  EXPECT_LT(same_position, static_cast<int>(n / 4));
  EXPECT_NE(e0, e1);
  // Another seed gives another sequence.
  o.seed = 12;
  ParallelBatcher c(data, o);
  ParallelBatch b;
  int same = 0;
  for (uint64_t k = 0; k < n; ++k) {
    c.train_batch(k, b);
    same += b.ids == seq[k].ids;
  }
  EXPECT_LT(same, static_cast<int>(n / 4));
  // The evaluation order ignores the seed.
  ParallelBatch v1, v2;
  a.eval_batch(3, v1);
  c.eval_batch(3, v2);
  EXPECT_EQ(v1.ids, v2.ids);
}

TEST_F(ParallelBatchesTest, BadInput) {
  const auto src3 = write("three.src.bin", {5, kEos, 6, 7, kEos, 8, kEos});
  const auto tgt2 = write("two.tgt.bin", {5, kEos, 6, kEos});
  expect_error([&] { load_parallel_data(src3, tgt2, kVocab, kEos); }, tgt2,
               "holds 2 segments but " + src3 + " holds 3");

  const auto tgt3 = write("three.tgt.bin", {5, kEos, 6, 7, kEos, 8, kEos});
  EXPECT_EQ(load_parallel_data(src3, tgt3, kVocab, kEos).size(), 3u);
  // Out of the model's vocabulary (the file's own header allows 500 ids).
  expect_error([&] { load_parallel_data(src3, tgt3, 8, kEos); }, src3,
               "token 8 at index 5 is outside the model's vocabulary of 8 ids");

  const auto empty = write("empty.src.bin", {});
  expect_error([&] { load_parallel_data(empty, tgt3, kVocab, kEos); }, empty, "empty");

  const auto cut = write("cut.tgt.bin", {5, kEos, 6, 7, kEos, 8});
  expect_error([&] { load_parallel_data(src3, cut, kVocab, kEos); }, cut,
               "truncated: the last segment does not end with EOS");

  // A file cut short on disk is reported by the token file reader.
  const auto short_file = (dir / "short.tgt.bin").string();
  fs::copy_file(tgt3, short_file);
  fs::resize_file(short_file, fs::file_size(short_file) - 4);
  expect_error([&] { load_parallel_data(src3, short_file, kVocab, kEos); }, short_file,
               "truncated");

  const auto other = write("other.tgt.bin", {5, kEos, 6, 7, kEos, 8, kEos}, "fedcba9876543210");
  expect_error([&] { load_parallel_data(src3, other, kVocab, kEos); }, other,
               "both sides must share one tokenizer");
  expect_error([&] { load_parallel_data(src3, tgt3, kVocab, kEos, "fedcba9876543210"); }, src3,
               "vocabulary mismatch");
  expect_error([&] { load_parallel_data((dir / "none.src.bin").string(), tgt3, kVocab, kEos); },
               (dir / "none.src.bin").string(), "not found");

  const ParallelData data = load_parallel_data(src3, tgt3, kVocab, kEos);
  ParallelBatchOptions o;
  o.max_src_len = 2;
  o.max_tgt_len = 1;
  expect_error([&] { ParallelBatcher(data, o); }, src3, "no pair fits max_src_len 2");
  // The budget caps the lengths too: a pair longer than max_tokens fits no batch.
  o.max_src_len = o.max_tgt_len = 100;
  o.max_tokens = 2;
  ParallelBatcher capped(data, o);
  EXPECT_EQ(capped.stats().kept, 2u);
  EXPECT_EQ(capped.stats().dropped_too_long, 1u);
  o.max_tokens = 0;
  expect_error([&] { ParallelBatcher(data, o); }, src3, "must be positive");
}

}  // namespace
