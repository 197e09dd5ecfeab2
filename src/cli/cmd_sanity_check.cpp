// `normlab sanity-check`: the depth sanity check of a block design (docs/sanity-check.md). The
// design comes from the usual model flags; the check builds it at several depths and prints the
// verdict table.
#include <cstdio>
#include <fstream>

#include "cli/commands.hpp"
#include "cli/config_flags.hpp"
#include "core/options.hpp"
#include "core/threads.hpp"
#include "train/sanity_check.hpp"

namespace normlab::cli {

namespace {

// The check's own defaults (train/sanity_check.hpp), below config files and flags.
std::vector<ConfigSetting> command_defaults() {
  std::vector<ConfigSetting> settings;
  for (const SanityDefault& d : sanity_check_defaults())
    settings.push_back({d.key, d.value, "sanity-check default"});
  return settings;
}

}  // namespace

Runner setup_sanity_check(CLI::App& app) {
  auto flags = std::make_shared<ConfigFlags>();
  auto json_path = std::make_shared<std::string>();
  // The short runs take a step as 'train' does (batch, optimizer, schedule, seed, threads); the
  // run's length (steps) sets the trial's compressed warmup.
  add_config_flags(app, *flags, {"model", "sanity", "optimizer"},
                   {"depths", "data", "seed", "threads", "batch_size", "grad_accum",
                    "label_smoothing", "steps"});
  show_command_defaults(app, command_defaults());
  app.add_option(flag_names("json_out"), *json_path,
                 "Also write everything measured and fitted as JSON to this file");
  return [=]() {
    Config config = resolve_config(*flags, Config::defaults(), command_defaults());
    const SanityData data = sanity_check_data(config);
    if (flags->dump_config) {
      std::fputs(config.dump_yaml().c_str(), stdout);
      return 0;
    }
    const SanityOptions options = sanity_options(config);
    // Opened before the run so that a bad path fails at once, not after minutes of measuring.
    std::ofstream json_out;
    if (!json_path->empty()) {
      json_out.open(*json_path);
      if (!json_out) throw UserError(*json_path + ": cannot write");
    }
    configure_threads(static_cast<int>(config.get_int("threads")));
    SanityReport report =
        run_sanity_check(config, options, data.tokens, data.label, [](const std::string& line) {
          std::fprintf(stderr, "%s\n", line.c_str());
          std::fflush(stderr);
        });
    std::fputs(format_report(report).c_str(), stdout);
    if (json_out.is_open()) {
      json_out << report_json(report).dump(1) << '\n';
      json_out.flush();
      if (!json_out) throw UserError(*json_path + ": cannot write");
    }
    return 0;
  };
}

}  // namespace normlab::cli
