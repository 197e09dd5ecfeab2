// End-to-end gradient check of the whole model for every placement x norm function: the
// analytic gradient of each parameter tensor, projected on a random direction, against a central
// finite difference of the loss. Float model, so the tolerance is relative 3e-2 with an absolute
// floor (documented per assertion); a dropped term in any backward path moves the projection
// far more than that.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/config.hpp"
#include "model/decoder_lm.hpp"
#include "tiny_model.hpp"

using namespace normlab;

namespace {

struct Batch {
  int B = 2, T = 6;
  std::vector<int32_t> x, y;
};

Batch make_batch(int V) {
  Batch b;
  std::mt19937 rng(7);
  for (int i = 0; i < b.B * b.T; ++i) {
    b.x.push_back(static_cast<int32_t>(rng() % V));
    b.y.push_back(static_cast<int32_t>(rng() % V));
  }
  return b;
}

void check_model(const Config& config, uint64_t dropout_seed = 0) {
  DecoderLM model(config);
  model.initialize(11);
  Batch batch = make_batch(model.shape().vocab);
  model.plan(batch.B, batch.T);
  model.set_dropout_seed(dropout_seed);
  ParamStore& p = model.params();
  p.zero_grads();
  model.forward(batch.x.data(), batch.y.data(), batch.B, batch.T);
  model.backward();
  std::vector<float> grads = p.grads();
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  int checked = 0;
  for (size_t i = 0; i < p.entries().size(); ++i) {
    const ParamEntry& e = p.entries()[i];
    std::vector<float> u(e.numel);
    double un = 0;
    for (auto& v : u) v = normal(rng), un += v * v;
    for (auto& v : u) v /= static_cast<float>(std::sqrt(un));
    double analytic = 0;
    for (size_t k = 0; k < e.numel; ++k) analytic += grads[e.offset + k] * u[k];
    float* w = p.value(i);
    std::vector<float> saved(w, w + e.numel);
    auto loss_at = [&](float h) {
      for (size_t k = 0; k < e.numel; ++k) w[k] = saved[k] + h * u[k];
      return model.forward(batch.x.data(), batch.y.data(), batch.B, batch.T);
    };
    const float h = 1e-2f;
    double fd = (loss_at(h) - loss_at(-h)) / (2 * h);
    std::copy(saved.begin(), saved.end(), w);
    // Tolerance: 3e-2 relative, plus 2e-4 absolute for the loss's float rounding over 2h.
    EXPECT_NEAR(analytic, fd, 3e-2 * std::fabs(fd) + 2e-4)
        << config.get_string("placement") << "/" << config.get_string("norm") << " " << e.name;
    ++checked;
  }
  EXPECT_GT(checked, 10);
}

class PlacementGrad : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(PlacementGrad, MatchesFiniteDifferences) {
  auto [placement, norm] = GetParam();
  check_model(tiny_config(placement, norm, 6));
}

INSTANTIATE_TEST_SUITE_P(
    AllPlacements, PlacementGrad,
    ::testing::Combine(::testing::Values("post", "pre", "peri", "sandwich", "b2t", "deepnorm",
                                         "mixln", "lns", "hybrid", "resi", "none"),
                       ::testing::Values("layernorm", "rmsnorm", "dyt")),
    [](const auto& info) { return std::get<0>(info.param) + "_" + std::get<1>(info.param); });

TEST(ModelGrad, WithDropoutAndSinusoids) {
  Config c = tiny_config("b2t", "layernorm", 6);
  c.set("dropout", "0.1", "test");
  c.set("positions", "sinusoidal", "test");
  c.set("scale_embedding", "true", "test");
  check_model(c, 99);
}

TEST(ModelGrad, CustomBlockDescription) {
  Config c = tiny_config("pre", "rmsnorm", 6);
  c.set("block", "attn:Nnq|ndrab mlp:ns|dan", "test");  // every letter at once
  check_model(c);
}

}  // namespace
