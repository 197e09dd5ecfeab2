#include "train/sweep.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "train/directory_lock.hpp"
#include "train/interrupt.hpp"
#include "train/progress.hpp"
#include "train/sweep_run_state.hpp"
#include "train/sweep_summary.hpp"
#include "train/trainer.hpp"

namespace normlab {

namespace fs = std::filesystem;

namespace {

void say(const std::string& line) {
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

}  // namespace

SweepOutcome run_sweep(const std::vector<SweepCell>& cells, const std::string& sweep_dir,
                       bool progress) {
  // Every existing run is checked against its cell before anything is trained or written.
  std::vector<RunState> states;
  for (const SweepCell& c : cells) states.push_back(inspect_run(c));
  std::error_code ec;
  fs::create_directories(sweep_dir, ec);
  if (ec || !fs::is_directory(sweep_dir))
    throw UserError(sweep_dir + ": cannot create the sweep directory" +
                    (ec ? ": " + ec.message() : std::string()));
  DirectoryLock lock(sweep_dir, "sweep.lock", "another sweep is running in this directory");

  SweepOutcome outcome;
  const long n = static_cast<long>(cells.size());
  ProgressBar bar(n, progress);
  std::vector<SweepRunRow> rows;
  for (long i = 0; i < n; ++i) {
    const SweepCell& cell = cells[static_cast<size_t>(i)];
    const std::string prefix =
        "[" + std::to_string(i + 1) + "/" + std::to_string(n) + "] " + cell.name;
    if (states[static_cast<size_t>(i)] == RunState::Done) {
      ++outcome.skipped;
      say(prefix + ": skipped (done)");
    } else {
      // The bar gets a line of its own: train() draws its own per-step bar or log lines below.
      if (bar.active()) {
        bar.update(i, "next: " + cell.name);
        bar.finish();
      }
      ++outcome.runs;
      if (states[static_cast<size_t>(i)] == RunState::Resume) {
        if (finish_interrupted_run(cell.config, prefix)) ++outcome.resumed;
      } else {
        train(cell.config, RunStart::Overwrite);
      }
    }
    SweepRunRow row = read_run_row(cell);
    if (row.status != "ok") ++outcome.diverged;
    if (states[static_cast<size_t>(i)] != RunState::Done) {
      char valid[64] = "";
      if (row.status == "ok" && std::isfinite(row.valid_loss))
        std::snprintf(valid, sizeof valid, ", valid loss %.4f", row.valid_loss);
      say(prefix + ": " + row.status + valid);
    }
    rows.push_back(std::move(row));
    write_sweep_summary(sweep_dir, rows);
    if (interrupt_signal() != 0) {  // the run saved its state; the sweep stops with it
      outcome.signal = interrupt_signal();
      break;
    }
  }
  std::fprintf(stderr,
               "sweep: %zu runs (%ld trained, %ld resumed, %ld skipped as done), %ld not ok; "
               "%s/summary.csv\n",
               cells.size(), outcome.runs, outcome.resumed, outcome.skipped, outcome.diverged,
               sweep_dir.c_str());
  return outcome;
}
}  // namespace normlab
