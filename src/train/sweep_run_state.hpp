// The state of one sweep run's directory, and how an interrupted run is taken up again
// (docs/sweep.md: resuming a sweep).
#pragma once
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "train/distributed.hpp"
#include "train/sweep_grid.hpp"

namespace normlab {

enum class RunState { Done, Resume, Fresh };
// What a cell's directory holds: summary.json (Done; Resume if it says interrupted), a
// checkpoint without summary (Resume) or neither (Fresh). Done and Resume runs must have been made
// with the cell's config (up to keys that do not change results); a mismatch throws UserError
// naming the run's file.
RunState inspect_run(const SweepCell& cell);
// "done", "interrupted" or "new" (sweep --list).
const char* to_string(RunState state);

// A run's summary.json; UserError naming the file when it cannot be read or parsed.
nlohmann::json read_run_summary(const std::filesystem::path& path);

// Trains an interrupted run (RunState::Resume) on `ranks`: continues from its checkpoint when that
// is possible, otherwise starts it over; their root says which on stderr after `prefix`. Returns
// whether it resumed.
bool finish_interrupted_run(const Config& config, const std::string& prefix, const Ranks& ranks);

}  // namespace normlab
