// Per-layer designs (model/layer_blocks.hpp): a list of block descriptions by layer range
// resolves to one block per layer, Mix-LN's options are its two-range case, a name stands for its
// preset's block, malformed lists say where and why, and --dump-config's text shows each layer.
#include <gtest/gtest.h>

#include <string>

#include "core/config.hpp"
#include "model/block_description.hpp"
#include "model/layer_blocks.hpp"
#include "tiny_model.hpp"

namespace normlab {
namespace {

const char* kPost = "attn:|dan mlp:|dan";
const char* kPre = "attn:n|da mlp:n|da";

std::vector<std::string> texts(const StackDescription& s) {
  std::vector<std::string> out;
  for (const BlockRecipe& b : s.blocks) out.push_back(b.text());
  return out;
}

Config with_block(const std::string& block, int layers = 6) {
  Config c = tiny_config("custom", "layernorm", 8);
  c.set("n_layers", std::to_string(layers), "test");
  c.set("block", block, "test");
  return c;
}

std::string error_of(const std::string& block, int layers = 6) {
  try {
    describe_stack(with_block(block, layers));
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(LayerBlocks, RangesGiveEachLayerItsBlock) {
  const StackDescription s = describe_stack(with_block("0-1: post, 2: peri, 3-: pre"));
  EXPECT_EQ(texts(s),
            (std::vector<std::string>{kPost, kPost, "attn:n|nda mlp:n|nda", kPre, kPre, kPre}));
  // A name is its preset's block: the same stack as the description written out.
  EXPECT_EQ(texts(describe_stack(with_block("0-1: post, 2-5: pre"))),
            texts(describe_stack(with_block(std::string("2-5: ") + kPre + ", 0-1: " + kPost))));
  EXPECT_EQ(layer_list_text(s.blocks),
            std::string("0-1: ") + kPost + ", 2-2: attn:n|nda mlp:n|nda, 3-5: " + kPre);
}

TEST(LayerBlocks, MixLNIsTheTwoRangeList) {
  for (const char* fraction : {"0", "0.25", "0.5", "1"}) {
    Config mix = tiny_config("mixln", "layernorm", 8);
    mix.set("n_layers", "8", "test");
    mix.set("lower_fraction", fraction, "test");
    const int k = static_cast<int>(std::stod(fraction) * 8);
    std::string list = k > 0 ? "0-" + std::to_string(k - 1) + ": post" : "";
    if (k < 8) list += (list.empty() ? "" : ", ") + std::to_string(k) + "-: pre";
    EXPECT_EQ(texts(describe_stack(mix)), texts(describe_stack(with_block(list, 8)))) << fraction;
  }
}

TEST(LayerBlocks, EachStackOfAnEncoderDecoderUsesItsDepth) {
  Config c = with_block("0: b2t, 1-: pre", 3);
  c.set("arch", "encdec", "test");
  c.set("encoder_layers", "2", "test");
  EXPECT_EQ(describe_stack(c, StackRole::Encoder).blocks.size(), 2u);
  const StackDescription dec = describe_stack(c, StackRole::Decoder);
  ASSERT_EQ(dec.blocks.size(), 3u);
  EXPECT_EQ(dec.blocks[0].text(), "attn:|dan cross:|dan mlp:|dabn");
  EXPECT_EQ(dec.blocks[2].text(), "attn:n|da cross:n|da mlp:n|da");
  c.set("block", "0: post, 2-: pre", "test");  // the encoder has no layer 2
  EXPECT_THROW(describe_stack(c, StackRole::Encoder), UserError);
}

TEST(LayerBlocks, MalformedListsSayWhereAndWhy) {
  auto says = [](const std::string& block, const std::string& why) {
    const std::string e = error_of(block);
    EXPECT_EQ(e.rfind("option 'block': ", 0), 0u) << e;
    EXPECT_NE(e.find(why), std::string::npos) << block << ": " << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  };
  says("0-3: post, 3-: pre", "layer 3 is already given by '0-3: post'");
  says("0-2: post, 4-: pre", "gives no block for layer 3 of the 6 layers (0-5)");
  says("0-9: post", "range '0-9' goes beyond the 6 layers (0-5)");
  says("0-2: post, 6-: pre", "range '6-' goes beyond");
  says("0-2: postln, 3-: pre", "'postln' is neither a block description nor one of post, pre");
  says("0-2: mixln, 3-: pre", "'mixln' is itself per-layer");
  says("3-1: post", "range '3-1' ends before it starts");
  says("0-x: post", "range '0-x': expected A-B, A- or A");
  says("0-2 post, 3-: pre", "expected RANGE: BLOCK");
  says("0-2: post,", "entry '': expected RANGE: BLOCK");
  says("0-2: attn:|da, 3-: pre", "needs both attn: and mlp:");
  Config c = with_block("0-2: post, 3-: pre");
  c.set("lower_block", kPost, "test");
  EXPECT_THROW(describe_stack(c), UserError);
}

TEST(LayerBlocks, TheDumpedConfigShowsEveryLayer) {
  Config mix = tiny_config("mixln", "layernorm", 8);
  mix.set("n_layers", "4", "test");
  mix.set("lower_fraction", "0.5", "test");
  const std::string yaml = dump_config_with_layers(expand_placement(mix));
  EXPECT_NE(yaml.find(std::string("\n#   0-1: ") + kPost + ", 2-3: " + kPre + "\n"),
            std::string::npos)
      << yaml;
  EXPECT_LT(yaml.find("\nblock: "), yaml.find("\n#   0-1: "));
}

}  // namespace
}  // namespace normlab
