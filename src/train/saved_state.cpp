#include "train/saved_state.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "core/config.hpp"
#include "core/files.hpp"

namespace normlab {

namespace fs = std::filesystem;

namespace {

constexpr const char* kCommitMarker = "checkpoint.commit";
constexpr const char* kKeptDir = "checkpoints";

fs::path staged(const fs::path& run, const char* name) {
  return run / (std::string(name) + ".next");
}

bool present(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

// run/checkpoints/step-SSSSSSSS.safetensors and its optimizer file.
fs::path kept_file(const fs::path& run, long step, bool optimizer) {
  char name[64];
  std::snprintf(name, sizeof name, "step-%08ld%s", step,
                optimizer ? ".optim.safetensors" : ".safetensors");
  return run / kKeptDir / name;
}

// The steps kept under run/checkpoints, ascending.
std::vector<long> kept_steps(const fs::path& run) {
  std::vector<long> steps;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(run / kKeptDir, ec)) {
    const std::string n = e.path().filename().string();
    long step = 0;
    int used = 0;
    if (std::sscanf(n.c_str(), "step-%ld.safetensors%n", &step, &used) == 1 &&
        used == static_cast<int>(n.size()))
      steps.push_back(step);
  }
  std::sort(steps.begin(), steps.end());
  return steps;
}

// A hard link costs no space; where the file system has none, a copy.
void keep(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::remove(to, ec);
  fs::create_hard_link(from, to, ec);
  if (ec) fs::copy_file(from, to, ec);
  if (ec) throw UserError(to.string() + ": cannot write: " + ec.message());
}

void keep_last_states(const fs::path& run, long step, long keep_last) {
  if (keep_last <= 1) return;
  std::error_code ec;
  fs::create_directories(run / kKeptDir, ec);
  if (ec) throw UserError((run / kKeptDir).string() + ": cannot create: " + ec.message());
  keep(run / kOptimizerFile, kept_file(run, step, true));
  keep(run / kModelFile, kept_file(run, step, false));  // last: a model file means a pair
  std::vector<long> steps = kept_steps(run);
  for (size_t i = 0; i + static_cast<size_t>(keep_last) < steps.size(); ++i) {
    fs::remove(kept_file(run, steps[i], false), ec);
    fs::remove(kept_file(run, steps[i], true), ec);
  }
}

// The reason at the end of a writer's message ("PATH: cannot write 'TMP': No space left on
// device" -> "No space left on device"), so that the error names the checkpoint, not the
// staging file.
std::string reason(const std::string& message) {
  const size_t colon = message.rfind(": ");
  return colon == std::string::npos ? message : message.substr(colon + 2);
}

}  // namespace

SavedState find_saved_state(const fs::path& run) {
  const bool committing = present(run / kCommitMarker);
  auto newest = [&](const char* name) {
    return committing && present(staged(run, name)) ? staged(run, name) : run / name;
  };
  SavedState s;
  s.model = newest(kModelFile);
  s.optimizer = newest(kOptimizerFile);
  s.exists = present(s.model);
  return s;
}

void recover_saved_state(const fs::path& run) {
  std::error_code ec;
  const bool committing = present(run / kCommitMarker);
  for (const char* name : {kOptimizerFile, kModelFile}) {
    if (!present(staged(run, name))) continue;
    if (committing)
      fs::rename(staged(run, name), run / name, ec);
    else
      fs::remove(staged(run, name), ec);
    if (ec) throw UserError(staged(run, name).string() + ": cannot recover: " + ec.message());
  }
  sync_directory(run);
  fs::remove(run / kCommitMarker, ec);
  remove_temporary_files(run);
  if (fs::is_directory(run / kKeptDir, ec)) remove_temporary_files(run / kKeptDir);
}

void save_state(const fs::path& run, long step, long kept_step, long keep_last,
                const StateWriter& write_model, const StateWriter& write_optimizer) {
  std::error_code ec;
  try {
    write_optimizer(staged(run, kOptimizerFile).string());
    write_model(staged(run, kModelFile).string());
    // The commit point: both staged files are complete and durable (write_safetensors fsyncs
    // the file and the directory).
    write_text_atomic((run / kCommitMarker).string(), std::to_string(step) + "\n");
  } catch (const UserError& e) {
    fs::remove(staged(run, kOptimizerFile), ec);
    fs::remove(staged(run, kModelFile), ec);
    throw UserError((run / kModelFile).string() + ": cannot save step " + std::to_string(step) +
                    ": " + reason(e.what()) +
                    (kept_step > 0
                         ? "; the checkpoint of step " + std::to_string(kept_step) + " is kept"
                         : std::string()));
  }
  for (const char* name : {kOptimizerFile, kModelFile}) {
    fs::rename(staged(run, name), run / name, ec);
    // The state is committed (the marker is durable): the next start rolls the rest forward.
    if (ec) throw UserError((run / name).string() + ": cannot commit: " + ec.message());
  }
  sync_directory(run);
  fs::remove(run / kCommitMarker, ec);
  keep_last_states(run, step, keep_last);
}

}  // namespace normlab
