// Admin's profiling pass (model/shortcut_profile.cpp, docs/placements.md "Admin"): it fills every
// omega with one scalar, omega_1 = 1 and then the running ratio, bottom up per stack; it is
// deterministic; a fresh init clears it; a checkpoint keeps the omega and the record, so a loaded
// model is not profiled again. The values themselves are checked against the PyTorch reference's
// own profiling (tests/reference/test_parity.py, placement admin).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "model/checkpoint.hpp"
#include "model/decoder_lm.hpp"
#include "tiny_model.hpp"

namespace normlab {
namespace {

struct AdminLM {
  DecoderLM model{tiny_config("admin", "layernorm", 6)};
  int B = 2, T = 6;
  std::vector<int32_t> x, y;
  AdminLM() {
    std::mt19937 rng(3);
    for (int i = 0; i < B * T; ++i)
      x.push_back(rng() % model.shape().vocab), y.push_back(rng() % model.shape().vocab);
    model.plan(B, T);
  }
  void profile() {
    model.profile_shortcuts([&] { model.forward(x.data(), y.data(), B, T); }, "test batch");
  }
  // omega of each 'w' sublayer, bottom up.
  std::vector<std::vector<float>> omegas() {
    std::vector<std::vector<float>> out;
    ParamStore& p = model.params();
    for (size_t i = 0; i < p.entries().size(); ++i)
      if (p.entries()[i].name.find(".omega") != std::string::npos)
        out.emplace_back(p.value(i), p.value(i) + p.entries()[i].numel);
    return out;
  }
};

TEST(ShortcutProfile, FillsEachOmegaWithTheRunningRatio) {
  AdminLM a;
  a.model.initialize(5);
  EXPECT_TRUE(a.model.needs_shortcut_profile());
  EXPECT_TRUE(a.model.shortcut_profile.empty());
  for (const auto& w : a.omegas()) {
    for (float v : w) {
      ASSERT_EQ(v, 1.0f);  // unprofiled: Post-LN
    }
  }
  a.profile();
  EXPECT_EQ(a.model.shortcut_profile, "test batch");
  const auto w = a.omegas();
  ASSERT_EQ(w.size(), 6u);   // 3 blocks x (attn, mlp)
  EXPECT_EQ(w[0][0], 1.0f);  // omega_1 = 1
  for (size_t i = 0; i < w.size(); ++i) {
    for (float v : w[i]) {
      EXPECT_EQ(v, w[i][0]) << "sublayer " << i;
    }
    // omega_{i+1}^2 = omega_i^2 Var[x_i] + Var[F_i] with Var[x_i] ~ 1 after a LayerNorm: it grows.
    if (i >= 2) {
      EXPECT_GT(w[i][0], w[i - 1][0]) << "sublayer " << i;
    }
  }
  // Deterministic: the same init and batch give the same omega, and the forward is not that of
  // an unprofiled model.
  const double profiled = a.model.forward(a.x.data(), a.y.data(), a.B, a.T);
  a.model.initialize(5);
  EXPECT_TRUE(a.model.shortcut_profile.empty());
  const double plain = a.model.forward(a.x.data(), a.y.data(), a.B, a.T);
  a.profile();
  EXPECT_EQ(a.omegas(), w);
  EXPECT_NE(profiled, plain);
  EXPECT_FALSE(DecoderLM(tiny_config("post", "layernorm", 6)).needs_shortcut_profile());
}

TEST(ShortcutProfile, CheckpointKeepsTheProfile) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("normlab_admin_" + std::to_string(::getpid()) + ".safetensors"))
                               .string();
  AdminLM a;
  a.model.initialize(5);
  save_model(path, a.model, {"", 0, ""});
  EXPECT_TRUE(load_model(path, nullptr)->shortcut_profile.empty());
  a.profile();
  save_model(path, a.model, {"", 0, ""});
  auto loaded = load_model(path, nullptr);
  EXPECT_EQ(loaded->shortcut_profile, "test batch");
  EXPECT_EQ(loaded->params().values(), a.model.params().values());
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace normlab
