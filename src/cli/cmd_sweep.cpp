// `normlab sweep --out_dir SWEEP_DIR [--sweep FILE] [--placements ...] [--depths ...] ...`: a grid
// of training runs (docs/sweep.md).
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cli/commands.hpp"
#include "cli/config_flags.hpp"
#include "core/options.hpp"
#include "train/sweep.hpp"

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

std::vector<std::string> split_values(const std::string& text, const std::string& origin) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    std::string v =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const size_t b = v.find_first_not_of(" \t"), e = v.find_last_not_of(" \t");
    v = b == std::string::npos ? "" : v.substr(b, e - b + 1);
    if (v.empty()) throw UserError(origin + ": empty value in '" + text + "'");
    out.push_back(v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

int run(const ConfigFlags& flags, const SweepArgs& args) {
  // Precedence, lowest first: defaults, --config files, the sweep file's base, --key flags, and
  // the grid axes for their own keys.
  Config base = Config::defaults();
  for (const auto& f : flags.files) base.merge_file(f);
  SweepFile file;
  if (!args.sweep_file.empty()) {
    file = read_sweep_file(args.sweep_file);
    for (const auto& s : file.base) base.set(s.key, s.value, s.origin);
  }
  for (const auto& [key, value] : flags.flags) base.set(key, value, "--" + key);

  std::vector<SweepAxis> cli_axes;
  auto add_axis = [&](const std::string& key, const std::string& text, const std::string& origin) {
    for (const auto& a : cli_axes)
      if (a.key == key) throw UserError(origin + ": '" + key + "' is already given by " + a.origin);
    cli_axes.push_back({key, split_values(text, origin), origin});
  };
  for (const auto& [flag, key] : args.axis_keys) {
    auto it = args.axis_text.find(flag);
    if (it != args.axis_text.end()) add_axis(key, it->second, "--" + flag);
  }
  for (const auto& g : args.grid) {
    const size_t eq = g.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UserError("--grid: expected KEY=V1,V2,... , got '" + g + "'");
    const std::string key = g.substr(0, eq);
    if (!find_option(key)) Config::defaults().set(key, "", "--grid");  // unknown-option error
    add_axis(key, g.substr(eq + 1), "--grid " + key);
  }
  const std::vector<SweepAxis> axes = combine_axes(file.grid, cli_axes);
  for (const auto& a : axes) {
    if (a.key == "out_dir")
      throw UserError(a.origin + ": 'out_dir' cannot be a grid axis (it is the sweep directory)");
    if (flags.flags.count(a.key))
      throw UserError("--" + a.key + ": '" + a.key + "' is a grid axis of this sweep (" + a.origin +
                      "); give its values there");
  }

  if (flags.dump_config) {
    std::fputs(base.dump_yaml().c_str(), stdout);
    return 0;
  }
  const std::vector<SweepCell> cells = expand_grid(base, axes);
  if (args.list) {
    for (const auto& c : cells) {
      const RunState s = inspect_run(c);
      std::printf("%s\t%s\n", c.name.c_str(),
                  s == RunState::Done     ? "done"
                  : s == RunState::Resume ? "interrupted"
                                          : "new");
    }
    return 0;
  }
  const std::string dir = base.get_string("out_dir");
  const SweepOutcome o = run_sweep(cells, dir, base.get_bool("progress"));
  std::fprintf(stderr,
               "sweep: %zu runs (%ld trained, %ld resumed, %ld skipped as done), %ld not ok; "
               "%s/summary.csv\n",
               cells.size(), o.runs, o.resumed, o.skipped, o.diverged, dir.c_str());
  return 0;
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
