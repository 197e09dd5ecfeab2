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
// Writes SWEEP_DIR/summary.csv atomically (header and `rows`).
void write_sweep_summary(const std::filesystem::path& sweep_dir,
                         const std::vector<SweepRunRow>& rows);

}  // namespace normlab
