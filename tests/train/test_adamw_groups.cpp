// AdamW's parameter groups (train/optimizer.hpp) under CompleteP (Dey et al. 2025, Table 1 along
// depth; docs/placements.md): one step on known gradients against the update written out by hand
// in double, every tensor inside the blocks at lr m_L^(alpha-1) and eps m_L^-alpha, the others
// (embeddings, final norm) at lr and adam_eps; and the groups of an encoder-decoder, one per
// stack at its own depth.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/model.hpp"
#include "train/optimizer.hpp"

using namespace normlab;

namespace {

// placement completep with alpha "off" would be alpha 1: a preset's value fills an option left at
// its default (docs/placements.md); the control without CompleteP is Pre-LN.
Config completep_config(const std::string& alpha, const std::string& arch) {
  Config c = Config::defaults();
  const std::pair<const char*, std::string> settings[] = {
      {"vocab_size", "11"},
      {"d_model", "8"},
      {"n_heads", "2"},
      {"d_ff", "12"},
      {"n_layers", "8"},
      {"encoder_layers", "4"},
      {"seq_len", "4"},
      {"placement", alpha == "off" ? "pre" : "completep"},
      {"completep_alpha", alpha},
      {"completep_base_depth", "2"},
      {"arch", arch}};
  for (const auto& [key, value] : settings) c.set(key, value, "test");
  return c;
}

bool in_blocks(const std::string& name) {
  return name.rfind("blocks.", 0) == 0;
}

// One AdamW step from zero moments on gradients g_i = 0.013 * ((i % 7) - 3) + 0.002, by hand:
// m_hat = g, v_hat = g^2, p -= lr_g (g / (|g| + eps_g) + wd p) (wd on weight matrices only).
void expect_first_step_by_hand(const std::string& alpha, double lr_scale, double eps_scale) {
  std::unique_ptr<Model> model = Model::create(completep_config(alpha, "lm"));
  model->initialize(3);
  AdamWSettings s;
  s.eps = 1e-2f;  // the size of the gradients, so that its scaling changes the update
  s.weight_decay = 0.1f;
  const float lr = 0.1f;
  ParamStore& p = model->params();
  const std::vector<float> before = p.values();
  for (size_t i = 0; i < p.entries().size(); ++i)
    for (size_t k = 0; k < p.entries()[i].numel; ++k)
      p.grad(i)[k] = static_cast<float>(0.013 * (static_cast<int>((k + i) % 7) - 3) + 0.002);
  AdamW opt(*model, s);
  opt.step(lr);
  size_t hidden = 0, other = 0;
  for (size_t i = 0; i < p.entries().size(); ++i) {
    const ParamEntry& e = p.entries()[i];
    const bool block = in_blocks(e.name);
    (block ? hidden : other) += 1;
    const double lr_g = lr * (block ? lr_scale : 1.0), eps_g = s.eps * (block ? eps_scale : 1.0);
    const double wd = e.role == ParamRole::Matrix ? s.weight_decay : 0.0;
    for (size_t k = 0; k < e.numel; ++k) {
      const double g = p.grad(i)[k], p0 = before[e.offset + k];
      const double want = p0 - lr_g * (g / (std::fabs(g) + eps_g) + wd * p0);
      ASSERT_NEAR(p.value(i)[k], want, 2e-6) << e.name << "[" << k << "]";
    }
  }
  EXPECT_GT(hidden, 0u);
  EXPECT_GT(other, 0u);  // tok_emb, pos_emb, final_norm
}

}  // namespace

// m_L = 8 / 2 = 4: alpha 1 keeps the blocks' lr and divides their eps by 4; alpha 0.5 halves both.
TEST(AdamWGroups, CompletePFirstStepMatchesHandFormula) {
  expect_first_step_by_hand("1", 1.0, 0.25);
  expect_first_step_by_hand("0.5", 0.5, 0.5);
}

// The control: without CompleteP every tensor takes lr and adam_eps.
TEST(AdamWGroups, OffGivesEveryTensorTheBaseValues) {
  expect_first_step_by_hand("off", 1.0, 1.0);
}

TEST(AdamWGroups, OneGroupPerStackAtItsOwnDepth) {
  std::unique_ptr<Model> model = Model::create(completep_config("0.5", "encdec"));
  AdamWSettings s;
  s.eps = 1e-8f;
  const std::vector<AdamWGroup> groups = adamw_groups(*model, s);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].name, "base");
  EXPECT_EQ(groups[1].name, "encoder.blocks");
  EXPECT_EQ(groups[2].name, "decoder.blocks");
  // encoder m_L = 4 / 2 = 2, decoder m_L = 8 / 2 = 4.
  EXPECT_FLOAT_EQ(groups[0].lr_scale, 1.0f);
  EXPECT_FLOAT_EQ(groups[0].eps, 1e-8f);
  EXPECT_FLOAT_EQ(groups[1].lr_scale, static_cast<float>(std::pow(2.0, -0.5)));
  EXPECT_FLOAT_EQ(groups[1].eps, static_cast<float>(1e-8 * std::pow(2.0, -0.5)));
  EXPECT_FLOAT_EQ(groups[2].lr_scale, 0.5f);
  EXPECT_FLOAT_EQ(groups[2].eps, 0.5e-8f);
  size_t total = 0;
  const auto& entries = model->params().entries();
  for (const AdamWGroup& g : groups) {
    total += g.tensors.size();
    for (size_t i : g.tensors)
      EXPECT_EQ(entries[i].name.rfind(g.name == "base" ? "" : g.name + ".", 0), 0u)
          << entries[i].name << " in " << g.name;
  }
  EXPECT_EQ(total, entries.size());
  for (size_t i : groups[0].tensors)
    EXPECT_EQ(entries[i].name.find("blocks."), std::string::npos) << entries[i].name;
}

TEST(AdamWGroups, RejectsAlphaOutsideThePapersRange) {
  for (const char* bad : {"0.4", "1.5", "on", ""}) {
    try {
      Model::create(completep_config(bad, "lm"));
      ADD_FAILURE() << "completep_alpha '" << bad << "' accepted";
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find("option 'completep_alpha'"), std::string::npos)
          << e.what();
    }
  }
}
