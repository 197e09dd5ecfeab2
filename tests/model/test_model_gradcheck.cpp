// End-to-end gradient check of the decoder-only model for every placement x norm function
// (tiny_model.hpp: expect_gradients_match).
#include <gtest/gtest.h>

#include <random>

#include "core/config.hpp"
#include "kernels/precision.hpp"
#include "model/decoder_lm.hpp"
#include "tiny_model.hpp"

using namespace normlab;

namespace {

struct Batch {
  int B = 2, T = 6;
  std::vector<int32_t> x, y;
};

// Targets at positions i with i % ignore_every == ignore_every - 1 are -1 (ignored) if set.
Batch make_batch(int V, int B = 2, int T = 6, int ignore_every = 0) {
  Batch b;
  b.B = B, b.T = T;
  std::mt19937 rng(7);
  for (int i = 0; i < b.B * b.T; ++i) {
    b.x.push_back(static_cast<int32_t>(rng() % V));
    b.y.push_back(static_cast<int32_t>(rng() % V));
    if (ignore_every > 0 && i % ignore_every == ignore_every - 1) b.y.back() = -1;
  }
  return b;
}

void check_model(const Config& config, uint64_t dropout_seed = 0, int B = 2, int T = 6,
                 int ignore_every = 0) {
  DecoderLM model(config);
  model.initialize(11);
  Batch batch = make_batch(model.shape().vocab, B, T, ignore_every);
  model.plan(batch.B, batch.T);
  model.set_dropout_seed(dropout_seed);
  ParamStore& p = model.params();
  p.zero_grads();
  model.forward(batch.x.data(), batch.y.data(), batch.B, batch.T);
  model.backward();
  expect_gradients_match(
      p, [&] { return model.forward(batch.x.data(), batch.y.data(), batch.B, batch.T); },
      config.get_string("placement") + "/" + config.get_string("norm"));
}

class PlacementGrad : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(PlacementGrad, MatchesFiniteDifferences) {
  auto [placement, norm] = GetParam();
  check_model(tiny_config(placement, norm, 6));
}

INSTANTIATE_TEST_SUITE_P(AllPlacements, PlacementGrad,
                         ::testing::Combine(::testing::ValuesIn(every_placement()),
                                            ::testing::Values("layernorm", "rmsnorm", "dyt")),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_" + std::get<1>(info.param);
                         });

TEST(ModelGrad, WithDropoutAndSinusoids) {
  Config c = tiny_config("b2t", "layernorm", 6);
  c.set("dropout", "0.1", "test");
  c.set("positions", "sinusoidal", "test");
  c.set("scale_embedding", "true", "test");
  check_model(c, 99);
}

TEST(ModelGrad, CustomBlockDescription) {
  Config c = tiny_config("pre", "rmsnorm", 6);
  c.set("block", "attn:Nnq|ndtab mlp:ns|dan", "test");  // every letter at once
  check_model(c);
}

// 2 x 150 rows: the loss and its gradient cross the output head's row chunks (Model::kHeadChunk),
// including a partial last chunk, with some targets ignored.
TEST(ModelGrad, BatchLongerThanOneHeadChunk) {
  static_assert(2 * 150 > Model::kHeadChunk && 2 * 150 < 2 * Model::kHeadChunk);
  Config c = tiny_config("post", "layernorm", 150);
  c.set("n_layers", "1", "test");
  check_model(c, 0, 2, 150, 7);
}

// Evaluation (grad_enabled off) gives the same loss without computing the head's gradient, and a
// backward after it is refused instead of silently using a stale gradient.
TEST(ModelGrad, ForwardWithoutGradientHasSameLossAndRefusesBackward) {
  Config c = tiny_config("pre", "layernorm", 150);
  c.set("n_layers", "1", "test");
  DecoderLM model(c);
  model.initialize(11);
  Batch batch = make_batch(model.shape().vocab, 2, 150, 7);
  model.plan(batch.B, batch.T);
  const double with_gradient = model.forward(batch.x.data(), batch.y.data(), batch.B, batch.T);
  model.grad_enabled = false;
  EXPECT_EQ(model.forward(batch.x.data(), batch.y.data(), batch.B, batch.T), with_gradient);
  EXPECT_THROW(model.backward(), std::logic_error);
  model.grad_enabled = true;
  model.forward(batch.x.data(), batch.y.data(), batch.B, batch.T);
  EXPECT_NO_THROW(model.backward());
}

// The whole model in bf16 mode (native or emulated: the same numbers up to summation order): the
// loss and every parameter gradient within 5 % of the fp32 ones (bf16's rounding moves them by
// about 1 % here; a mis-converted operand would move them by 100 %), and not equal to them (bf16
// is applied). 300 rows span two chunks of the fused head.
TEST(ModelGrad, Bf16StaysCloseToFp32) {
  Config c = tiny_config("pre", "layernorm", 150);
  DecoderLM model(c);
  model.initialize(11);
  Batch batch = make_batch(model.shape().vocab, 2, 150, 7);
  model.plan(batch.B, batch.T);
  auto run = [&](Precision precision, std::vector<float>* grads) {
    ScopedMatmulPrecision scope(precision);
    model.params().zero_grads();
    const double loss = model.forward(batch.x.data(), batch.y.data(), batch.B, batch.T);
    model.backward();
    *grads = model.params().grads();
    return loss;
  };
  std::vector<float> g32, g16;
  const double l32 = run(Precision::fp32, &g32), l16 = run(Precision::bf16, &g16);
  EXPECT_NEAR(l16, l32, 1e-2 * l32);
  EXPECT_NE(l16, l32);
  const ParamStore& p = model.params();
  for (const ParamEntry& e : p.entries()) {
    double diff = 0, norm = 0;
    for (size_t k = e.offset; k < e.offset + e.numel; ++k)
      diff += (g16[k] - g32[k]) * static_cast<double>(g16[k] - g32[k]),
          norm += g32[k] * static_cast<double>(g32[k]);
    EXPECT_LT(std::sqrt(diff), 5e-2 * std::sqrt(norm) + 1e-7) << e.name;
    EXPECT_GT(diff, 0.0) << e.name << ": identical to fp32, bf16 not applied?";
  }
}

}  // namespace
