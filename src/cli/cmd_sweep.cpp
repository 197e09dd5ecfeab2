// `normlab sweep --out_dir SWEEP_DIR [--sweep FILE] [--placements ...] [--depths ...] ...`: a grid
// of training runs (docs/sweep.md).
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cli/commands.hpp"
#include "cli/config_flags.hpp"
#include "train/distributed.hpp"
#include "train/sweep.hpp"
#include "train/sweep_file.hpp"
#include "train/sweep_run_state.hpp"

namespace normlab::cli {

namespace {

struct SweepArgs {
  std::string sweep_file;
  std::vector<std::string> grid;  // --grid KEY=V1,V2
  std::string shard = "1/1";      // --shard I/N
  bool list = false;
};

int run(const ConfigFlags& flags, const SweepArgs& args) {
  // Under an MPI launcher: the ranks (or the refusal of a normlab built without MPI).
  const bool root = Ranks::world().is_root();
  const SweepShard shard = parse_shard(args.shard);
  const SweepFile file = args.sweep_file.empty() ? SweepFile{} : read_sweep_file(args.sweep_file);
  std::vector<ConfigSetting> file_base;
  for (const auto& s : file.base) file_base.push_back({s.key, s.value, s.origin});
  // The sweep file's base sits between the --config files and the flags; the grid axes then set
  // their own keys cell by cell.
  // Unexpanded: each cell sets its own placement (core/placement_presets.hpp).
  const Config base = merge_config(flags, Config::defaults(), {}, file_base);
  std::vector<SweepAxis> command_axes = option_axes(base);
  for (const auto& g : args.grid) command_axes.push_back(parse_grid_argument(g));
  std::set<std::string> flag_keys;
  for (const auto& kv : flags.flags) flag_keys.insert(kv.first);
  const std::vector<SweepAxis> axes = sweep_axes(file.grid, command_axes, flag_keys);
  if (flags.dump_config) {
    if (root) std::fputs(base.dump_yaml().c_str(), stdout);
    return 0;
  }
  const std::vector<SweepCell> cells = expand_grid(base, axes);
  if (args.list) {
    for (size_t i = 0; i < cells.size(); ++i)
      if (shard.owns(i) && root)
        std::printf("%s\t%s\n", cells[i].name.c_str(), to_string(inspect_run(cells[i])));
    return 0;
  }
  const SweepOutcome o = run_sweep(cells, base.get_string("out_dir"), base.get_bool("progress"),
                                   shard, base.get_int("ranks_per_run"));
  return o.signal != 0 ? 128 + o.signal : 0;
}

}  // namespace

Runner setup_sweep(CLI::App& app) {
  auto flags = std::make_shared<ConfigFlags>();
  auto args = std::make_shared<SweepArgs>();
  add_config_flags(app, *flags, {"model", "data", "run", "train", "optimizer", "sweep"});
  app.add_option("--sweep", args->sweep_file,
                 "Sweep file (YAML or JSON): {grid: {option: [values]}, base: {option: value}}; "
                 "command-line axes replace its axes of the same key")
      ->type_name("FILE");
  app.add_option("--grid", args->grid, "Grid axis over any option: KEY=V1,V2,... (repeatable)")
      ->type_name("KEY=V1,...")
      ->group("sweep options")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--shard", args->shard,
                 "Run only shard I of N of the cells (cell c belongs to shard c mod N + 1), for "
                 "N processes without MPI such as a Slurm job array; processes sharing the "
                 "directory never run one cell twice")
      ->type_name("I/N");
  app.add_flag("--list", args->list,
               "Print each run's name and state (done, interrupted, new), of the shard with "
               "--shard, and exit");
  return [flags, args]() { return run(*flags, *args); };
}

}  // namespace normlab::cli
