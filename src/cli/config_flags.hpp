// Command-line side of the configuration: --config FILE, --dump-config and one --key VALUE flag
// per option of the vocabulary (options.hpp), resolved in the order defaults -> files -> flags.
#pragma once
#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <vector>

#include "core/config.hpp"

namespace normlab {

// Filled by CLI11 while parsing; must outlive the parse of the app it was registered on.
struct ConfigFlags {
  std::vector<std::string> files;            // --config, in command-line order
  std::map<std::string, std::string> flags;  // key -> raw text; checked by Config::set
  bool dump_config = false;
};

// Registers --config FILE (repeatable; later files override earlier), --dump-config, and one
// --key VALUE option per option whose group is in `groups`, also spelled with dashes
// (--d-model). Values are type-checked later by Config::set, not by CLI11. Bool options take an
// explicit value (--rescale_init false) or the bare form (--rescale_init) meaning true. Repeating
// a flag keeps the last value.
void add_config_flags(CLI::App& app, ConfigFlags& out, const std::vector<std::string>& groups);

// `base` (the defaults, or a resumed run's config), then each file in order, then the flags
// (origin "--key"); the effective config.
Config resolve_config(const ConfigFlags& flags, Config base = Config::defaults());

}  // namespace normlab
