// A sweep: the cartesian product of option values (placements x depths x learning rates x dt x
// seeds, or any option key), one train() run per cell in SWEEP_DIR/<run name>, resumable after an
// interruption, with SWEEP_DIR/summary.csv over all finished runs (docs/sweep.md).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/config.hpp"

namespace normlab {

// One axis of the grid: an option key and its values as given.
struct SweepAxis {
  std::string key;
  std::vector<std::string> values;
  std::string origin;  // where it came from, for errors: "--lrs" or "FILE: line N"
};

struct SweepSetting {
  std::string key, value, origin;
};

// A sweep file (YAML or JSON): {grid: {KEY: [values...]}, base: {KEY: value}}. Keys are checked
// against the option vocabulary; any problem throws UserError("FILE: ...").
struct SweepFile {
  std::vector<SweepAxis> grid;
  std::vector<SweepSetting> base;
};
SweepFile read_sweep_file(const std::string& path);

// `later` axes replace `earlier` axes of the same key (command-line axes over file axes).
std::vector<SweepAxis> combine_axes(std::vector<SweepAxis> earlier,
                                    const std::vector<SweepAxis>& later);

struct SweepCell {
  std::string name;  // directory name under the sweep directory
  Config config;     // effective config of the run; out_dir = SWEEP_DIR/name
};

// Every cell of the grid over `base` (whose out_dir is the sweep directory), in a fixed order:
// placement, norm, n_layers, lr, dt, other axes as given, seed (seed varies fastest). Checks every
// value and every cell's model description before anything runs; throws UserError naming the
// axis origin or the run directory.
std::vector<SweepCell> expand_grid(const Config& base, const std::vector<SweepAxis>& axes);

// Readable, filesystem-safe run name:
// <placement>[-<norm>]-L<n>-lr<lr>-dt<dt>[-<key><value>]-s<seed> (norm and other keys only when
// they are grid axes), e.g. "b2t-L18-lr1e-3-dt1_sqrtL-s1".
std::string run_name(const Config& config, const std::vector<std::string>& axis_keys);

enum class RunState { Done, Resume, Fresh };
// What a cell's directory holds: summary.json (Done), a checkpoint without summary (Resume) or
// neither (Fresh). Done and Resume runs must have been made with the cell's config (up to keys
// that do not change results); a mismatch throws UserError naming the run's file.
RunState inspect_run(const SweepCell& cell);

struct SweepOutcome {
  long runs = 0, skipped = 0, resumed = 0, diverged = 0;
};

// Runs the cells in order: Done runs are skipped, Resume runs continue from their checkpoint,
// others start fresh; a diverged run is a result. Writes SWEEP_DIR/summary.csv (atomically) after
// every run. One progress line per run on stderr, and a bar over runs when stderr is a terminal
// and `progress` is on. Holds a lock on SWEEP_DIR/sweep.lock so two sweeps cannot share a
// directory.
SweepOutcome run_sweep(const std::vector<SweepCell>& cells, const std::string& sweep_dir,
                       bool progress);

}  // namespace normlab
