// A sweep: the cartesian product of option values (placements x depths x learning rates x dt x
// seeds, or any option key), one train() run per cell in SWEEP_DIR/<run name>, resumable after an
// interruption, with SWEEP_DIR/summary.csv over all finished runs (docs/sweep.md). The pieces:
// sweep_grid (axes and cells), sweep_file (the YAML/JSON sweep file), sweep_run_state (a run's
// directory: done, interrupted or new), sweep_summary (summary.csv), directory_lock.
#pragma once
#include <string>
#include <vector>

#include "train/sweep_grid.hpp"

namespace normlab {

struct SweepOutcome {
  long runs = 0, skipped = 0, resumed = 0, diverged = 0;
  int signal = 0;  // SIGINT / SIGTERM that interrupted a run (the sweep stopped after it)
};

// Runs the cells in order: Done runs are skipped, Resume runs continue from their checkpoint,
// others start fresh; a diverged run is a result. Writes SWEEP_DIR/summary.csv (atomically) after
// every run. One progress line per run on stderr, a bar over runs when stderr is a terminal and
// `progress` is on, and a closing line with the counts. Holds a lock on SWEEP_DIR/sweep.lock so two
// sweeps cannot share a directory.
SweepOutcome run_sweep(const std::vector<SweepCell>& cells, const std::string& sweep_dir,
                       bool progress);

}  // namespace normlab
