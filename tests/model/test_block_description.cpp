// The block language, driven by its op table (block_ops.hpp): a description that uses every
// letter of the table, built from the table itself, parses and prints back, registers exactly
// the norms the rows name, and its whole model matches finite differences; so a new letter is
// tested by adding its row. Malformed descriptions fail with the reason.
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

#include "core/config.hpp"
#include "model/block_description.hpp"
#include "model/decoder_lm.hpp"
#include "tiny_model.hpp"

namespace normlab {
namespace {

// "PRE|POST" with every letter the sublayer allows, each where its row says it may stand, with
// `residual_op` as its one residual ('a' or nGPT's 'h').
std::string every_letter(unsigned sublayer, Op residual_op) {
  std::string pre, before, residual, after;
  for (const OpSpec& s : block_ops()) {
    if (!(s.sublayers & sublayer)) continue;
    if (s.place == OpPlace::Residual && s.op != residual_op) continue;
    std::string& part = s.place == OpPlace::Pre             ? pre
                        : s.place == OpPlace::Residual      ? residual
                        : s.place == OpPlace::AfterResidual ? after
                                                            : before;
    part += s.letter;
  }
  return pre + "|" + before + residual + after;
}

std::string every_letter_block() {
  // One residual per sublayer: attention takes 'a', the MLP 'h', so the block has every op.
  return "attn:" + every_letter(kSelfAttention, Op::Residual) +
         " mlp:" + every_letter(kMLP, Op::SphereStep);
}

std::string parse_error(const std::string& text) {
  try {
    parse_block(text, "test");
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(BlockDescription, EveryLetterOfTheTableParsesAndPrintsBack) {
  const std::string text = every_letter_block();
  const BlockRecipe b = parse_block(text, "test");
  EXPECT_EQ(b.text(), text);
  // The third residual, Admin's 'w', in a second block.
  const std::string admin = "attn:" + every_letter(kSelfAttention, Op::ShortcutWeight) +
                            " mlp:" + every_letter(kMLP, Op::Residual);
  const BlockRecipe b2 = parse_block(admin, "test");
  EXPECT_EQ(b2.text(), admin);
  std::set<Op> seen;
  for (const SublayerRecipe* r : {&b.attn, &b.mlp, &b2.attn})
    for (const auto* ops : {&r->pre, &r->post}) seen.insert(ops->begin(), ops->end());
  EXPECT_EQ(seen.size(), block_ops().size()) << text;
  EXPECT_EQ(block_ops().size(), static_cast<size_t>(kOpCount));
  for (const char* preset :
       {"attn:|dan mlp:|dan", "attn:n|nda mlp:n|nda", "attn:|dan mlp:|dabn", "attn:q|da mlp:N|da",
        "attn:ns|da mlp:ns|da", "attn:|dtan mlp:|dtan", "attn:n|da cross:q|dan mlp:n|da",
        "attn:NDn|dtsa mlp:NDn|dtsa", "attn:u|dh mlp:u|dh", "attn:|dwn mlp:|dwn"})
    EXPECT_EQ(parse_block(preset, "test").text(), std::string(preset));
}

TEST(BlockDescription, MalformedDescriptionsSayWhy) {
  auto says = [](const std::string& text, const std::string& why) {
    EXPECT_NE(parse_error(text).find(why), std::string::npos) << text << ": " << parse_error(text);
  };
  says("attn:|dan mlp:|dra", "unknown letter 'r'");  // Marian's RMSNorm is not a letter
  says("attn:|da mlp:q|da", "'q' only applies to attention");
  says("attn:|dat mlp:|da", "'t' must come before 'a'");
  says("attn:|bda mlp:|da", "'b' must come after 'a'");
  says("attn:|das mlp:|da", "'s' must come before 'a'");  // SiameseNorm's branch scale
  says("attn:|da mlp:|dDa", "unknown letter 'D' after '|'");
  says("attn:|dda mlp:|da", "letter 'd' repeated");
  says("attn:|d mlp:|da", "missing the residual 'a'");
  says("attn:|dah mlp:|da", "one residual per sublayer");
  says("attn:|daw mlp:|da", "one residual per sublayer ('a', 'h' or 'w')");
  says("attn:|da cross:u|da mlp:|da", "'u' does not apply to this sublayer");
  says("attn:n mlp:|da", "expected PRE|POST");
  says("attn:|da", "needs both attn: and mlp:");
}

Config every_letter_config() {
  Config c = tiny_config("pre", "layernorm", 6);
  c.set("n_layers", "2", "test");
  c.set("block", every_letter_block(), "test");
  return c;
}

// The stack registers exactly the norms the table gives each op of the recipe.
TEST(BlockDescription, RegistersTheNormsOfTheTable) {
  DecoderLM model(every_letter_config());
  std::set<std::string> names, want;
  for (const auto& e : model.params().entries())
    if (e.name.rfind("blocks.0.", 0) == 0 && e.name.find("norm") != std::string::npos)
      names.insert(e.name.substr(0, e.name.rfind('.')));
  for (const OpSpec& s : block_ops())
    for (const OpNorm& n : s.norms)
      for (const char* sub : {"attn", "mlp"})
        if (s.sublayers & (std::string(sub) == "attn" ? kSelfAttention : kMLP))
          want.insert(std::string("blocks.0.") + sub + "." + n.name);
  EXPECT_EQ(names, want);
}

TEST(BlockDescription, EveryLetterMatchesFiniteDifferences) {
  DecoderLM model(every_letter_config());
  model.initialize(11);
  const int B = 2, T = 6, V = model.shape().vocab;
  std::mt19937 rng(7);
  std::vector<int32_t> x(B * T), y(B * T);
  for (int i = 0; i < B * T; ++i) x[i] = rng() % V, y[i] = rng() % V;
  model.plan(B, T);
  ParamStore& p = model.params();
  p.zero_grads();
  model.forward(x.data(), y.data(), B, T);
  model.backward();
  expect_gradients_match(
      p, [&] { return model.forward(x.data(), y.data(), B, T); }, every_letter_block());
}

}  // namespace
}  // namespace normlab
