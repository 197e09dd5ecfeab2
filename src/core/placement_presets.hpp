// Placement presets: a placement name stands for a set of plain option values (as Marian's
// aliases and fairseq's architecture presets do), so that `--dump-config` shows what `deepnorm`
// means and the model reads only those values, never the name. The table (placement_presets.cpp)
// is the one list of placements: the `placement` option's choices, `normlab options` and the
// tests read it. Equations and sources of every preset: docs/placements.md.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace normlab {

class Config;

struct PlacementPreset {
  const char* name;
  const char* source;  // the paper it follows (docs/placements.md has the equations)
  // Option -> value. An option the row does not name takes the `custom` row's value.
  std::vector<std::pair<const char*, const char*>> values;
};

// Every preset, then `custom` (a `block` of your own, with the fallbacks of every other row).
const std::vector<PlacementPreset>& placement_presets();
// Their names, in table order: the `placement` option's choices.
std::vector<std::string> placement_names();

// `config` with its placement written out: every option a preset sets that is still at its
// default (`auto`, empty) takes the preset's value; options set by hand keep theirs. A `block`
// that differs from the preset's own makes the placement `custom`. The result names no `auto`
// placement option, and expanding it again changes nothing. Expand after the last change of
// `placement`: an expanded config carries its preset's block, so a placement set afterwards
// meets a foreign block and becomes `custom` (the CLI expands the effective config; a sweep sets
// each cell's placement on the unexpanded base; the model expands what it is built from).
// Throws UserError for `custom` without a `block`.
Config expand_placement(const Config& config);

}  // namespace normlab
