#include "cli/config_flags.hpp"

#include <algorithm>

#include "core/options.hpp"
#include "core/placement_presets.hpp"

namespace normlab {

namespace {

// The "TYPE=default" text CLI11 prints after the flag name. We set it ourselves rather than via
// default_str(): CLI11 substitutes default_str for a bare `--flag`, which would turn a bare
// `--rescale_init` into its default (false) instead of true.
std::string option_text(const OptionSpec& o, const std::string& default_value) {
  std::string t;
  if (!o.choices.empty()) {
    t = "{";
    for (size_t i = 0; i < o.choices.size(); ++i) t += (i ? "," : "") + o.choices[i];
    t += "}";
  } else {
    switch (o.type) {
      case OptionType::Int:
        t = "INT";
        break;
      case OptionType::Float:
        t = "FLOAT";
        break;
      case OptionType::Bool:
        t = "[BOOL]";
        break;
      case OptionType::String:
        t = "TEXT";
        break;
    }
  }
  if (!default_value.empty()) t += "=" + default_value;
  return t;
}

}  // namespace

std::string flag_names(const std::string& name, const std::string& short_name) {
  std::string snake = name, kebab = name;
  std::replace(snake.begin(), snake.end(), '-', '_');
  std::replace(kebab.begin(), kebab.end(), '_', '-');
  std::string names = short_name.empty() ? "" : "-" + short_name + ",";
  names += "--" + snake;
  if (kebab != snake) names += ",--" + kebab;
  return names;
}

void add_config_flags(CLI::App& app, ConfigFlags& out, const std::vector<std::string>& groups,
                      const std::vector<std::string>& keys) {
  app.add_option("--config", out.files,
                 "Config file (JSON or YAML) of option: value pairs; repeatable, later files "
                 "override earlier ones, command-line flags override all files.")
      ->type_name("FILE")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_flag(flag_names("dump_config"), out.dump_config,
               "Print the effective configuration as YAML (a valid config file) and exit.");
  for (const OptionSpec& o : all_options()) {
    if (std::find(groups.begin(), groups.end(), o.group) == groups.end() &&
        std::find(keys.begin(), keys.end(), o.key) == keys.end())
      continue;
    const std::string key = o.key;
    const bool is_bool = o.type == OptionType::Bool;
    CLI::Option* opt = app.add_option(
        flag_names(key),
        [&out, key, is_bool](const CLI::results_t& r) {
          // As in a config file, an option is set once: a repeated flag is an error, not a
          // silent "last one wins".
          if (r.size() > 1)
            throw UserError("--" + key + ": given " + std::to_string(r.size()) +
                            " times; give it once");
          // A bare bool flag arrives as an empty result.
          std::string v = r.empty() ? std::string() : r.back();
          out.flags[key] = (is_bool && v.empty()) ? "true" : v;
          return true;
        },
        o.range.bounded() ? o.help + " Allowed: " + o.range.text() + "." : o.help);
    opt->option_text(option_text(o, o.default_value))
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->group(o.group + " options");
    if (is_bool) opt->expected(0, 1);
  }
}

void show_command_defaults(CLI::App& app, const std::vector<ConfigSetting>& command_defaults) {
  for (const auto& s : command_defaults)
    if (CLI::Option* o = app.get_option_no_throw("--" + s.key))
      o->option_text(option_text(*find_option(s.key), s.value));
}

Config merge_config(const ConfigFlags& flags, Config c,
                    const std::vector<ConfigSetting>& command_defaults,
                    const std::vector<ConfigSetting>& over_files) {
  for (const auto& s : command_defaults) c.set(s.key, s.value, s.origin);
  for (const auto& f : flags.files) c.merge_file(f);
  for (const auto& s : over_files) c.set(s.key, s.value, s.origin);
  for (const auto& [key, value] : flags.flags) c.set(key, value, "--" + key);
  return c;
}

Config resolve_config(const ConfigFlags& flags, Config base,
                      const std::vector<ConfigSetting>& command_defaults,
                      const std::vector<ConfigSetting>& over_files) {
  return expand_placement(merge_config(flags, std::move(base), command_defaults, over_files));
}

}  // namespace normlab
