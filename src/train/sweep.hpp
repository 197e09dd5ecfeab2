// A sweep: the cartesian product of option values (placements x depths x learning rates x dt x
// seeds, or any option key), one train() run per cell in SWEEP_DIR/<run name>, resumable after an
// interruption, with SWEEP_DIR/summary.csv over all finished runs (docs/sweep.md). The pieces:
// sweep_grid (axes and cells), sweep_file (the YAML/JSON sweep file), sweep_run_state (a run's
// directory: done, interrupted or new), sweep_summary (summary.csv), sweep_shard (a process's share
// of the cells), directory_lock.
#pragma once
#include <string>
#include <vector>

#include "train/sweep_grid.hpp"
#include "train/sweep_shard.hpp"

namespace normlab {

struct SweepOutcome {
  long runs = 0, skipped = 0, resumed = 0, diverged = 0;
  long elsewhere = 0;  // cells another process (or group of ranks) was running
  int signal = 0;      // SIGINT / SIGTERM that interrupted a run (the sweep stopped after it)
};

// Runs the cells of `shard` in grid order: Done runs are skipped, Resume runs continue from their
// checkpoint, others start fresh; a diverged run is a result. Several processes may share a sweep
// directory: each cell is claimed with a lock (RUN/cell.lock, held while the run trains) and
// looked at again once claimed, and a cell another process holds is left to it, so no cell runs
// twice at once and no finished cell runs again. Under MPI (Ranks::world()) the ranks form groups
// of `ranks_per_run` (which must divide their number), each group claims cells in this way and
// trains them data-parallel. Rewrites SWEEP_DIR/summary.csv after every run and at the end, from
// every finished run (update_sweep_summary). One progress line per cell on stderr (under MPI: per
// cell a rank trains, and rank 0's for the runs done before), a bar over the shard's cells when
// stderr is a terminal, `progress` is on and there is one process, and a closing line with the
// counts.
SweepOutcome run_sweep(const std::vector<SweepCell>& cells, const std::string& sweep_dir,
                       bool progress, const SweepShard& shard = {}, long ranks_per_run = 1);

}  // namespace normlab
