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

// What a group of ranks does with a cell, decided by the group's root (it alone claims cells)
// and broadcast to the others.
enum class CellTurn : long { LeftToOthers, Done, Resume, Fresh };

// Claims `cell` unless its run was finished already (`seen`: its state before the sweep
// started): takes RUN/cell.lock into `claim`, then looks at the run directory again, since another
// process sharing the sweep may have run it meanwhile. LeftToOthers when another process holds
// the claim.
CellTurn claim_cell(const SweepCell& cell, RunState seen, std::unique_ptr<DirectoryLock>& claim) {
  if (seen == RunState::Done) return CellTurn::Done;  // a finished run stays finished
  const fs::path run_dir = cell.config.get_string("out_dir");
  std::error_code ec;
  fs::create_directories(run_dir, ec);
  if (ec) throw UserError(run_dir.string() + ": cannot create the run directory: " + ec.message());
  claim = DirectoryLock::try_lock(run_dir, "cell.lock");
  if (!claim) return CellTurn::LeftToOthers;
  switch (inspect_run(cell)) {
    case RunState::Done:
      return CellTurn::Done;
    case RunState::Resume:
      return CellTurn::Resume;
    case RunState::Fresh:
      break;
  }
  return CellTurn::Fresh;
}

// The closing line: what this process did, or under MPI (rank 0) what the ranks did together.
void say_outcome(const SweepOutcome& o, const Ranks& world, long ranks_per_run, size_t share,
                 size_t n, const SweepShard& shard, const std::string& sweep_dir) {
  double counts[] = {static_cast<double>(o.runs), static_cast<double>(o.resumed),
                     static_cast<double>(o.skipped), static_cast<double>(o.diverged)};
  world.sum(counts, 4);
  if (!world.is_root()) return;
  std::string what = std::to_string(n) + " runs";
  if (shard.count > 1)
    what = "shard " + std::to_string(shard.index) + "/" + std::to_string(shard.count) + ": " +
           std::to_string(share) + " of " + what;
  if (world.size() > 1)
    what += " on " + std::to_string(world.size()) + " ranks" +
            (ranks_per_run > 1 ? ", " + std::to_string(ranks_per_run) + " per run" : "");
  const std::string elsewhere =
      world.size() == 1 && o.elsewhere
          ? ", " + std::to_string(o.elsewhere) + " left to other processes"
          : "";
  auto count = [&](int i) { return std::to_string(static_cast<long>(counts[i])); };
  say("sweep: " + what + " (" + count(0) + " trained, " + count(1) + " resumed, " + count(2) +
      " skipped as done" + elsewhere + "), " + count(3) + " not ok; " + sweep_dir + "/summary.csv");
}

}  // namespace

SweepOutcome run_sweep(const std::vector<SweepCell>& cells, const std::string& sweep_dir,
                       bool progress, const SweepShard& shard, long ranks_per_run) {
  const Ranks& world = Ranks::world();
  if (world.size() % ranks_per_run != 0)
    throw UserError("option 'ranks_per_run': " + std::to_string(ranks_per_run) +
                    " does not divide the " + std::to_string(world.size()) +
                    " rank(s) of this job (start it as 'mpirun -np N', N a multiple of " +
                    std::to_string(ranks_per_run) + ")");
  // Every existing run is checked against its cell before anything is trained or written.
  std::vector<RunState> states;
  for (const SweepCell& c : cells) states.push_back(inspect_run(c));
  std::error_code ec;
  fs::create_directories(sweep_dir, ec);
  if (ec || !fs::is_directory(sweep_dir))
    throw UserError(sweep_dir + ": cannot create the sweep directory" +
                    (ec ? ": " + ec.message() : std::string()));

  // Under MPI the ranks form groups of ranks_per_run; each group's root walks the cells in grid
  // order and claims the next free one, as several sweep processes do (the claim is the only
  // coordination, so a group that finishes a short run takes the next cell at once). A rank
  // then says only what it trains, and rank 0 the runs that were done before.
  const Ranks group = world.split(static_cast<int>(ranks_per_run));
  const bool leader = group.is_root(), alone = world.size() == 1;
  SweepOutcome outcome;
  const size_t n = cells.size();
  std::vector<size_t> mine;
  for (size_t i = 0; i < n; ++i)
    if (shard.owns(i)) mine.push_back(i);
  ProgressBar bar(static_cast<long>(mine.size()), progress && alone);
  for (size_t k = 0; k < mine.size(); ++k) {
    const size_t i = mine[k];
    const SweepCell& cell = cells[i];
    const std::string prefix =
        "[" + std::to_string(i + 1) + "/" + std::to_string(n) + "] " + cell.name;
    std::unique_ptr<DirectoryLock> claim;
    CellTurn turn = leader ? claim_cell(cell, states[i], claim) : CellTurn::LeftToOthers;
    turn = static_cast<CellTurn>(group.broadcast(static_cast<long>(turn)));
    if (turn == CellTurn::LeftToOthers) {
      ++outcome.elsewhere;
      if (alone) say(prefix + ": skipped (running in another process)");
    } else if (turn == CellTurn::Done) {
      if (alone || (world.is_root() && states[i] == RunState::Done)) {
        ++outcome.skipped;
        say(prefix + ": skipped (done)");
        if (read_run_row(cell).status != "ok") ++outcome.diverged;
      }
    } else {
      // The bar gets a line of its own: train() draws its own per-step bar or log lines below.
      if (bar.active()) {
        bar.update(static_cast<long>(k), "next: " + cell.name);
        bar.finish();
      }
      if (leader) ++outcome.runs;
      if (turn == CellTurn::Resume) {
        if (finish_interrupted_run(cell.config, prefix, group) && leader) ++outcome.resumed;
      } else {
        train(cell.config, RunStart::Overwrite, {}, group);
      }
      if (leader) {
        const SweepRunRow row = read_run_row(cell);
        if (row.status != "ok") ++outcome.diverged;
        char valid[64] = "";
        if (row.status == "ok" && std::isfinite(row.valid_loss))
          std::snprintf(valid, sizeof valid, ", valid loss %.4f", row.valid_loss);
        say(prefix + ": " + row.status + valid);
        claim.reset();
        update_sweep_summary(sweep_dir, cells);
      }
    }
    // The run saved its state; the sweep stops with it (the group's ranks stop together).
    if (const long signal = group.max(interrupt_signal()); signal != 0) {
      outcome.signal = static_cast<int>(signal);
      break;
    }
  }
  if (leader) update_sweep_summary(sweep_dir, cells);
  say_outcome(outcome, world, ranks_per_run, mine.size(), n, shard, sweep_dir);
  return outcome;
}
}  // namespace normlab
