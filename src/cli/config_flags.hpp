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

// The names of a flag: "--NAME", also spelled with dashes for underscores (and the other way
// round: "out-dir" gives --out_dir,--out-dir), and "-S" when a short name is given. Every flag
// of every command is named through it, so both spellings always work.
std::string flag_names(const std::string& name, const std::string& short_name = "");

// Registers --config FILE (repeatable; later files override earlier), --dump-config, and one
// --key VALUE option per option whose group is in `groups` or whose key is in `keys`, also
// spelled with dashes (--d-model). Values are type-checked later by Config::set, not by CLI11. Bool
// options take an explicit value (--rescale_init false) or the bare form (--rescale_init) meaning
// true. A flag given twice (in either spelling) throws UserError, as a key set twice in a config
// file does.
void add_config_flags(CLI::App& app, ConfigFlags& out, const std::vector<std::string>& groups,
                      const std::vector<std::string>& keys = {});

// A setting from neither a file nor a flag: a command's own default, a sweep file's base.
struct ConfigSetting {
  std::string key, value, origin;
};

// Shows a command's own defaults in its --help in place of the vocabulary's.
void show_command_defaults(CLI::App& app, const std::vector<ConfigSetting>& command_defaults);

// The settings by the one precedence of every command, lowest first: `base` (the vocabulary's
// defaults, or a resumed run's own config), `command_defaults` (a command's own defaults), each
// --config file in order, `over_files` (a sweep file's base), then the flags (origin "--key").
// The placement stays a name: a sweep sets each cell's placement on this.
Config merge_config(const ConfigFlags& flags, Config base = Config::defaults(),
                    const std::vector<ConfigSetting>& command_defaults = {},
                    const std::vector<ConfigSetting>& over_files = {});
// The effective config: merge_config, then the placement written out
// (core/placement_presets.hpp), as --dump-config shows it.
Config resolve_config(const ConfigFlags& flags, Config base = Config::defaults(),
                      const std::vector<ConfigSetting>& command_defaults = {},
                      const std::vector<ConfigSetting>& over_files = {});

}  // namespace normlab
