// `normlab sweep --out_dir SWEEP_DIR [--sweep FILE] [--placements ...] [--depths ...] ...`: a grid
// of training runs (docs/sweep.md).
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cli/commands.hpp"
#include "cli/config_flags.hpp"
#include "train/sweep.hpp"
#include "train/sweep_file.hpp"
#include "train/sweep_run_state.hpp"

namespace normlab::cli {

namespace {

struct SweepArgs {
  std::string sweep_file;
  // Axis flag -> its option key and the raw comma-separated text.
  std::vector<std::pair<std::string, std::string>> axis_keys = {{"placements", "placement"},
                                                                {"norms", "norm"},
                                                                {"depths", "n_layers"},
                                                                {"lrs", "lr"},
                                                                {"dts", "dt"},
                                                                {"seeds", "seed"}};
  std::map<std::string, std::string> axis_text;  // flag name -> text
  std::vector<std::string> grid;                 // --grid KEY=V1,V2
  bool list = false;
};

int run(const ConfigFlags& flags, const SweepArgs& args) {
  const SweepFile file = args.sweep_file.empty() ? SweepFile{} : read_sweep_file(args.sweep_file);
  // Precedence, lowest first: defaults, --config files, the sweep file's base, --key flags, and
  // the grid axes for their own keys.
  Config base = Config::defaults();
  for (const auto& f : flags.files) base.merge_file(f);
  for (const auto& s : file.base) base.set(s.key, s.value, s.origin);
  for (const auto& [key, value] : flags.flags) base.set(key, value, "--" + key);
  std::vector<SweepAxis> command_axes;
  for (const auto& [flag, key] : args.axis_keys) {
    auto it = args.axis_text.find(flag);
    if (it != args.axis_text.end())
      command_axes.push_back(parse_axis(key, it->second, "--" + flag));
  }
  for (const auto& g : args.grid) command_axes.push_back(parse_grid_argument(g));
  std::set<std::string> flag_keys;
  for (const auto& kv : flags.flags) flag_keys.insert(kv.first);
  const std::vector<SweepAxis> axes = sweep_axes(file.grid, command_axes, flag_keys);
  if (flags.dump_config) {
    std::fputs(base.dump_yaml().c_str(), stdout);
    return 0;
  }
  const std::vector<SweepCell> cells = expand_grid(base, axes);
  if (args.list) {
    for (const auto& c : cells) std::printf("%s\t%s\n", c.name.c_str(), to_string(inspect_run(c)));
    return 0;
  }
  const SweepOutcome o = run_sweep(cells, base.get_string("out_dir"), base.get_bool("progress"));
  return o.signal != 0 ? 128 + o.signal : 0;
}

}  // namespace

Runner setup_sweep(CLI::App& app) {
  auto flags = std::make_shared<ConfigFlags>();
  auto args = std::make_shared<SweepArgs>();
  add_config_flags(app, *flags, {"model", "train", "data", "run"});
  app.add_option("--sweep", args->sweep_file,
                 "Sweep file (YAML or JSON): {grid: {option: [values]}, base: {option: value}}; "
                 "command-line axes replace its axes of the same key")
      ->type_name("FILE");
  for (const auto& [flag, key] : args->axis_keys) {
    const std::string f = flag, k = key;
    app.add_option(
           "--" + f,
           [args, f](const CLI::results_t& r) {
             args->axis_text[f] = r.back();
             return true;
           },
           "Grid axis: values of '" + k + "', comma-separated")
        ->type_name("V1,V2,...")
        ->group("sweep axes")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  }
  app.add_option("--grid", args->grid, "Grid axis over any option: KEY=V1,V2,... (repeatable)")
      ->type_name("KEY=V1,...")
      ->group("sweep axes")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_flag("--list", args->list,
               "Print each run's name and state (done, interrupted, new) and exit");
  return [flags, args]() { return run(*flags, *args); };
}

}  // namespace normlab::cli
