#include "train/sweep.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "core/terminal.hpp"
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
  print_line(stderr, line);
}

}  // namespace

SweepOutcome run_sweep(const std::vector<SweepCell>& cells, const std::string& sweep_dir,
                       bool progress, const SweepShard& shard) {
  // Every existing run is checked against its cell before anything is trained or written.
  std::vector<RunState> states;
  for (const SweepCell& c : cells) states.push_back(inspect_run(c));
  std::error_code ec;
  fs::create_directories(sweep_dir, ec);
  if (ec || !fs::is_directory(sweep_dir))
    throw UserError(sweep_dir + ": cannot create the sweep directory" +
                    (ec ? ": " + ec.message() : std::string()));

  SweepOutcome outcome;
  const size_t n = cells.size();
  std::vector<size_t> mine;
  for (size_t i = 0; i < n; ++i)
    if (shard.owns(i)) mine.push_back(i);
  ProgressBar bar(static_cast<long>(mine.size()), progress);
  for (size_t k = 0; k < mine.size(); ++k) {
    const size_t i = mine[k];
    const SweepCell& cell = cells[i];
    const std::string prefix =
        "[" + std::to_string(i + 1) + "/" + std::to_string(n) + "] " + cell.name;
    // A finished run stays finished; any other cell is claimed first, then looked at again,
    // because another process sharing the sweep may have run it since (docs/sweep.md).
    RunState state = states[i];
    std::unique_ptr<DirectoryLock> claim;
    if (state != RunState::Done) {
      const fs::path run_dir = cell.config.get_string("out_dir");
      fs::create_directories(run_dir, ec);
      if (ec)
        throw UserError(run_dir.string() + ": cannot create the run directory: " + ec.message());
      claim = DirectoryLock::try_lock(run_dir, "cell.lock");
      if (!claim) {
        ++outcome.elsewhere;
        say(prefix + ": skipped (running in another process)");
        continue;
      }
      state = inspect_run(cell);
    }
    if (state == RunState::Done) {
      ++outcome.skipped;
      say(prefix + ": skipped (done)");
    } else {
      // The bar gets a line of its own: train() draws its own per-step bar or log lines below.
      if (bar.active()) {
        bar.update(static_cast<long>(k), "next: " + cell.name);
        bar.finish();
      }
      ++outcome.runs;
      if (state == RunState::Resume) {
        if (finish_interrupted_run(cell.config, prefix)) ++outcome.resumed;
      } else {
        train(cell.config, RunStart::Overwrite);
      }
    }
    const SweepRunRow row = read_run_row(cell);
    if (row.status != "ok") ++outcome.diverged;
    if (state != RunState::Done) {
      char valid[64] = "";
      if (row.status == "ok" && std::isfinite(row.valid_loss))
        std::snprintf(valid, sizeof valid, ", valid loss %.4f", row.valid_loss);
      say(prefix + ": " + row.status + valid);
      claim.reset();
      update_sweep_summary(sweep_dir, cells);
    }
    if (interrupt_signal() != 0) {  // the run saved its state; the sweep stops with it
      outcome.signal = interrupt_signal();
      break;
    }
  }
  update_sweep_summary(sweep_dir, cells);
  std::string share = std::to_string(n) + " runs";
  if (shard.count > 1)
    share = "shard " + std::to_string(shard.index) + "/" + std::to_string(shard.count) + ": " +
            std::to_string(mine.size()) + " of " + share;
  const std::string elsewhere =
      outcome.elsewhere ? ", " + std::to_string(outcome.elsewhere) + " left to other processes"
                        : "";
  say("sweep: " + share + " (" + std::to_string(outcome.runs) + " trained, " +
      std::to_string(outcome.resumed) + " resumed, " + std::to_string(outcome.skipped) +
      " skipped as done" + elsewhere + "), " + std::to_string(outcome.diverged) + " not ok; " +
      sweep_dir + "/summary.csv");
  return outcome;
}
}  // namespace normlab
