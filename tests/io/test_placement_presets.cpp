// Placement presets expand into plain option values (core/placement_presets.hpp): every preset
// writes out a block and no `auto`, expanding twice changes nothing, values set by hand win, and
// the `placement` option offers exactly the table's names.
#include <gtest/gtest.h>

#include <string>

#include "core/config.hpp"
#include "core/options.hpp"
#include "core/placement_presets.hpp"

namespace normlab {
namespace {

Config with_placement(const std::string& name) {
  Config c = Config::defaults();
  c.set("placement", name, "test");
  if (name == "custom") c.set("block", "attn:n|da mlp:n|da", "test");
  return c;
}

TEST(PlacementPresets, EveryPresetIsWrittenOutAndStable) {
  for (const std::string& name : placement_names()) {
    const Config once = expand_placement(with_placement(name));
    EXPECT_EQ(once.get_string("placement"), name);
    EXPECT_FALSE(once.get_string("block").empty()) << name;
    for (const char* key : {"final_norm", "residual_alpha", "init"})
      EXPECT_NE(once.get_string(key), "auto") << name << " " << key;
    EXPECT_EQ(expand_placement(once).to_json(), once.to_json()) << name;
  }
}

TEST(PlacementPresets, DeepNormMeansTheseValues) {
  const Config c = expand_placement(with_placement("deepnorm"));
  EXPECT_EQ(c.get_string("block"), "attn:|dan mlp:|dan");
  EXPECT_EQ(c.get_string("final_norm"), "false");
  EXPECT_EQ(c.get_string("residual_alpha"), "deepnorm");
  EXPECT_EQ(c.get_string("init"), "deepnorm");
  const std::string yaml = c.dump_yaml();
  EXPECT_NE(yaml.find("\nresidual_alpha: deepnorm\n"), std::string::npos);
  EXPECT_NE(yaml.find("\ninit: deepnorm\n"), std::string::npos);
  const Config mix = expand_placement(with_placement("mixln"));
  EXPECT_EQ(mix.get_string("lower_block"), "attn:|dan mlp:|dan");
  EXPECT_EQ(expand_placement(with_placement("none")).get_string("init"), "tfixup");
}

TEST(PlacementPresets, ValuesSetByHandWin) {
  Config c = with_placement("deepnorm");
  c.set("init", "xavier", "test");
  c.set("residual_alpha", "1.3", "test");
  const Config e = expand_placement(c);
  EXPECT_EQ(e.get_string("init"), "xavier");
  EXPECT_EQ(e.get_string("residual_alpha"), "1.3");
  EXPECT_EQ(e.get_string("final_norm"), "false");  // still the preset's
}

TEST(PlacementPresets, AForeignBlockIsCustom) {
  Config c = with_placement("deepnorm");
  c.set("block", "attn:n|nda mlp:n|nda", "test");
  const Config e = expand_placement(c);
  EXPECT_EQ(e.get_string("placement"), "custom");
  EXPECT_EQ(e.get_string("residual_alpha"), "1");  // custom's fallbacks
  EXPECT_EQ(e.get_string("final_norm"), "true");
  EXPECT_EQ(e.get_string("init"), "xavier");
  Config bare = Config::defaults();
  bare.set("placement", "custom", "test");
  EXPECT_THROW(expand_placement(bare), UserError);
}

TEST(PlacementPresets, TheOptionOffersTheTable) {
  EXPECT_EQ(find_option("placement")->choices, placement_names());
}

}  // namespace
}  // namespace normlab
