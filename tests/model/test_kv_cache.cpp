// Incremental decoding against the full forward: for every placement x norm function, the
// logits forward_next computes position by position from the KV cache equal the full causal
// forward's logits at each position (relative 1e-4 of the largest logit: float reassociation
// only, since both compute the same sums in a different order). Its speed is measured by
// bench/generation.cpp, not here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

#include "core/config.hpp"
#include "model/decoder_lm.hpp"
#include "model/kv_cache.hpp"
#include "tiny_model.hpp"

using namespace normlab;

namespace {

std::vector<int32_t> random_tokens(int T, int V, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> t(static_cast<size_t>(T));
  for (auto& x : t) x = static_cast<int32_t>(rng() % V);
  return t;
}

// Max |cached - full| over all positions and the vocabulary, divided by max |full logit|.
double relative_gap(DecoderLM& model, const std::vector<int32_t>& tokens) {
  const int T = static_cast<int>(tokens.size()), V = model.shape().vocab;
  model.training = false;
  model.plan(1, T);
  model.forward(tokens.data(), nullptr, 1, T);
  std::vector<float> full(model.logits(), model.logits() + static_cast<size_t>(T) * V);
  KVCache cache(model);
  double max_diff = 0, max_abs = 0;
  for (int t = 0; t < T; ++t) {
    const float* l = model.forward_next(tokens[t], t, cache);
    for (int v = 0; v < V; ++v) {
      const float f = full[static_cast<size_t>(t) * V + v];
      max_diff = std::max(max_diff, static_cast<double>(std::fabs(l[v] - f)));
      max_abs = std::max(max_abs, static_cast<double>(std::fabs(f)));
    }
  }
  EXPECT_EQ(cache.length(), T);
  return max_diff / std::max(max_abs, 1e-30);
}

void check(const Config& config) {
  DecoderLM model(config);
  model.initialize(11);
  const int T = model.shape().max_T;
  std::vector<int32_t> tokens = random_tokens(T, model.shape().vocab, 3);
  EXPECT_LT(relative_gap(model, tokens), 1e-4);
  // A shorter sequence after clear(): the cache is reusable.
  std::vector<int32_t> shorter = random_tokens(T - 3, model.shape().vocab, 4);
  EXPECT_LT(relative_gap(model, shorter), 1e-4);
}

}  // namespace

class KVCacheEquivalence : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(KVCacheEquivalence, MatchesFullForwardLearnedPositions) {
  auto [placement, norm] = GetParam();
  check(tiny_config(placement, norm, 9));
}

TEST_P(KVCacheEquivalence, MatchesFullForwardSinusoidalScaledEmbedding) {
  auto [placement, norm] = GetParam();
  Config c = tiny_config(placement, norm, 9);
  c.set("positions", "sinusoidal", "test");
  c.set("scale_embedding", "true", "test");
  check(c);
}

INSTANTIATE_TEST_SUITE_P(AllPlacements, KVCacheEquivalence,
                         ::testing::Combine(::testing::ValuesIn(every_placement()),
                                            ::testing::Values("layernorm", "rmsnorm", "dyt")),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_" + std::get<1>(info.param);
                         });

// A custom block exercising every letter at once (N, n, s, q / n, d, t, a, b) with dropout
// configured (it must be the identity in forward_next, as in eval-mode forward).
TEST(KVCache, MatchesFullForwardCustomBlockAllLetters) {
  Config c = tiny_config("pre", "layernorm", 9);
  c.set("block", "attn:Nnsq|ndtab mlp:Nns|ndtab", "test");
  c.set("dropout", "0.1", "test");
  check(c);
}

// Admin with its profiled shortcut weights (omega != 1, one value per sublayer): the decoding
// step reads the same omega as the full forward.
TEST(KVCache, MatchesFullForwardAdminProfiled) {
  DecoderLM model(tiny_config("admin", "layernorm", 9));
  model.initialize(11);
  const int T = model.shape().max_T;
  std::vector<int32_t> tokens = random_tokens(T, model.shape().vocab, 5);
  model.plan(1, T);
  model.profile_shortcuts([&] { model.forward(tokens.data(), nullptr, 1, T); }, "test");
  ParamStore& p = model.params();
  int profiled = 0;
  for (size_t i = 0; i < p.entries().size(); ++i)
    if (p.entries()[i].name.ends_with(".omega") && p.value(i)[0] != 1.0f) ++profiled;
  EXPECT_GT(profiled, 0);
  EXPECT_LT(relative_gap(model, tokens), 1e-4);
}

// A per-layer design: each layer's own block (B2T's block input, ResiDual's dual stream,
// HybridNorm's q/k/v norms) in one stack.
TEST(KVCache, MatchesFullForwardPerLayerBlocks) {
  Config c = tiny_config("custom", "rmsnorm", 9);
  c.set("block", "0: b2t, 1: resi, 2: hybrid", "test");
  check(c);
  c.set("block", "0: post, 1-: attn:Nnsq|ndtab mlp:ns|dan", "test");
  check(c);
}

// SiameseNorm's letters outside its preset: D reading a dual stream that t, s and b share with
// every other letter, dropout configured; and a per-layer stack where ResiDual's tee and
// SiameseNorm's read meet in one second stream.
TEST(KVCache, MatchesFullForwardDualStreamRead) {
  Config c = tiny_config("pre", "layernorm", 9);
  c.set("block", "attn:NDnsq|ndtsab mlp:NDns|ndtsab", "test");
  c.set("dropout", "0.1", "test");
  check(c);
  c = tiny_config("custom", "rmsnorm", 9);
  c.set("block", "0: resi, 1: siamese, 2: b2t", "test");
  check(c);
}

TEST(KVCache, RejectsNonAppendPosition) {
  DecoderLM model(tiny_config("pre", "rmsnorm", 9));
  model.initialize(1);
  KVCache cache(model);
  EXPECT_THROW(model.forward_next(1, 1, cache), std::logic_error);
  model.forward_next(1, 0, cache);
  EXPECT_THROW(model.forward_next(1, model.shape().max_T, cache), std::logic_error);
  EXPECT_THROW(model.forward_next(99, 1, cache), UserError);
}
