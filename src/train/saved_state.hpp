// A run's saved training state: the model (checkpoint.safetensors, a plain safetensors file that
// generate, translate, grad and PyTorch read) and the AdamW moments (checkpoint.optim.safetensors)
// of the same step, committed together (docs/safetensors.md, "Checkpoints of a run"):
//   1. stage: each file is written as NAME.next (itself through NAME.next.tmp.PID, fsync, rename);
//   2. commit point: checkpoint.commit (the step) is written atomically;
//   3. each NAME.next is renamed onto NAME; then checkpoint.commit is removed.
// A kill before 2 leaves the previous pair in place and stale staged files; a kill after 2 leaves
// a marker that says the staged pair is complete, and the next start rolls it forward. Either
// way a resume sees one step's model and optimizer, never a mix.
#pragma once
#include <filesystem>
#include <functional>
#include <string>

namespace normlab {

inline constexpr const char* kModelFile = "checkpoint.safetensors";
inline constexpr const char* kOptimizerFile = "checkpoint.optim.safetensors";

// Where the newest complete state of `run` is. Reads only directory entries; writes nothing.
struct SavedState {
  std::filesystem::path model, optimizer;  // files to load
  bool exists = false;                     // false: the run has saved nothing yet
};
SavedState find_saved_state(const std::filesystem::path& run);

// Completes what a killed writer left in `run` (and run/checkpoints): rolls a marked commit
// forward, removes staged files of an unmarked one and every temporary file (NAME.tmp,
// NAME.tmp.PID). Call with the run locked (run_directory.hpp), after find_saved_state's files
// were validated.
void recover_saved_state(const std::filesystem::path& run);

// Writes a file at the given path (the writer of one part of the state).
using StateWriter = std::function<void(const std::string& path)>;

// Stages, commits and (keep_last > 1) keeps the state of `step` as
// run/checkpoints/step-SSSSSSSS{.safetensors,.optim.safetensors}, hard links to the committed
// files, removing all but the newest keep_last there. On failure (a full disk) nothing of the
// new state is left and UserError("RUN/checkpoint.safetensors: cannot save step S: WHY") says
// which state is kept; `kept_step` is that step (0: none).
void save_state(const std::filesystem::path& run, long step, long kept_step, long keep_last,
                const StateWriter& write_model, const StateWriter& write_optimizer);

}  // namespace normlab
