// SWEEP_DIR/summary.csv: one row per finished run of a sweep, read from the run's summary.json
// (columns in docs/sweep.md).
#pragma once
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "train/sweep_grid.hpp"

namespace normlab {

struct SweepRunRow {
  std::vector<std::string> fields;  // the CSV columns, in order
  std::string status;               // "ok", or "diverged at step S: why"
  double valid_loss = NAN;
};

// The row of a finished run (its summary.json must exist).
SweepRunRow read_run_row(const SweepCell& cell);
// Rewrites SWEEP_DIR/summary.csv atomically: the header and one row per cell, in grid order,
// whose run has a summary.json, whichever process ran it. Holds SWEEP_DIR/sweep.lock meanwhile,
// so that the processes sharing a sweep write it one at a time; a process that has just finished
// a run therefore writes a table that holds it and every run finished before, and the last one
// to finish leaves the complete table.
void update_sweep_summary(const std::filesystem::path& sweep_dir,
                          const std::vector<SweepCell>& cells);

}  // namespace normlab
