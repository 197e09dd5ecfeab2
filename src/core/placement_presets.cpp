// The placement presets (placement_presets.hpp). One row per placement: its name, its source and
// the option values it stands for. Equations, letters and arXiv ids: docs/placements.md; what the
// values mean: src/model/block_description.hpp (block), src/model/init.cpp (init) and
// docs/options.md.
#include "core/placement_presets.hpp"

#include "core/config.hpp"

namespace normlab {

const std::vector<PlacementPreset>& placement_presets() {
  static const std::vector<PlacementPreset> presets = {
      {"post", "Vaswani et al. 2017", {{"block", "attn:|dan mlp:|dan"}, {"final_norm", "false"}}},
      {"pre", "Xiong et al. 2020", {{"block", "attn:n|da mlp:n|da"}}},
      {"peri", "Kim et al. 2025", {{"block", "attn:n|nda mlp:n|nda"}}},
      {"sandwich", "Ding et al. 2021 (CogView), = peri", {{"block", "attn:n|nda mlp:n|nda"}}},
      {"b2t", "Takase et al. 2023", {{"block", "attn:|dan mlp:|dabn"}, {"final_norm", "false"}}},
      {"deepnorm",
       "Wang et al. 2022",
       {{"block", "attn:|dan mlp:|dan"},
        {"final_norm", "false"},
        {"residual_alpha", "deepnorm"},
        {"init", "deepnorm"}}},
      {"mixln",
       "Li et al. 2024",
       {{"block", "attn:n|da mlp:n|da"},
        {"lower_block", "attn:|dan mlp:|dan"},
        {"lower_fraction", "0.25"}}},
      {"lns", "Sun et al. 2025", {{"block", "attn:ns|da mlp:ns|da"}}},
      {"hybrid", "Zhuo et al. 2025", {{"block", "attn:q|da mlp:N|da"}}},
      {"resi", "Xie et al. 2023", {{"block", "attn:|dtan mlp:|dtan"}, {"final_norm", "false"}}},
      {"none",
       "T-Fixup, Huang et al. 2020",
       {{"block", "attn:|da mlp:|da"}, {"final_norm", "false"}, {"init", "tfixup"}}},
      {"olmo2", "OLMo et al. 2025 (OLMo 2)", {{"block", "attn:Q|nda mlp:|nda"}}},
      {"siamese", "Li et al. 2026 (SiameseNorm)", {{"block", "attn:NDn|dtsa mlp:NDn|dtsa"}}},
      // gpt2's Gaussian init, then every unit matrix projected onto the sphere: the official
      // code's N(0, 1/sqrt(d)) followed by normalize_matrices gives the same directions.
      {"ngpt",
       "Loshchilov et al. 2024 (nGPT)",
       {{"block", "attn:u|dh mlp:u|dh"}, {"final_norm", "false"}, {"init", "gpt2"}}},
      {"completep",
       "CompleteP, Dey et al. 2025",
       {{"block", "attn:n|da mlp:n|da"}, {"completep_alpha", "1"}}},
      {"subln",
       "Sub-LN / Magneto, Wang et al. 2022",
       {{"block", "attn:ni|da cross:n|da mlp:ni|da"}, {"init", "subln"}}},
      {"admin",
       "Admin, Liu et al. 2020",
       {{"block", "attn:|dwn mlp:|dwn"}, {"final_norm", "false"}}},
      // Your own `block`; every other row falls back to these values.
      {"custom",
       "",
       {{"final_norm", "true"},
        {"residual_alpha", "1"},
        {"init", "xavier"},
        {"completep_alpha", "off"}}},
  };
  return presets;
}

std::vector<std::string> placement_names() {
  std::vector<std::string> names;
  for (const auto& p : placement_presets()) names.push_back(p.name);
  return names;
}

namespace {
const char* value_of(const PlacementPreset& p, const std::string& key) {
  for (const auto& [k, v] : p.values)
    if (key == k) return v;
  return "";
}
}  // namespace

Config expand_placement(const Config& config) {
  static const Config defaults = Config::defaults();
  const auto& presets = placement_presets();
  const PlacementPreset& custom = presets.back();
  const PlacementPreset* preset = &custom;
  for (const auto& p : presets)
    if (config.get_string("placement") == p.name) preset = &p;
  const std::string& block = config.get_string("block");
  if (!block.empty() && block != value_of(*preset, "block")) preset = &custom;
  Config out = config;
  const std::string origin = std::string("placement '") + preset->name + "'";
  out.set("placement", preset->name, origin);
  for (const PlacementPreset* p : {preset, &custom})
    for (const auto& [key, value] : p->values)
      if (out.get_string(key) == defaults.get_string(key)) out.set(key, value, origin);
  if (out.get_string("block").empty())
    throw UserError("option 'placement': 'custom' needs a 'block' description");
  return out;
}

}  // namespace normlab
