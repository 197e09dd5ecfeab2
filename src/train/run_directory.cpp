#include "train/run_directory.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "core/files.hpp"
#include "core/options.hpp"

namespace normlab {

namespace fs = std::filesystem;

namespace {

// Everything `train` writes into its out_dir (trainer.cpp, saved_state.cpp).
bool is_run_file(const std::string& name) {
  static const std::set<std::string> names = {"config.yaml",
                                              "metrics.jsonl",
                                              "diagnostics.jsonl",
                                              "summary.json",
                                              "tokenizer.model",
                                              "checkpoint.safetensors",
                                              "checkpoint.commit",
                                              "checkpoints",
                                              "checkpoint.optim.safetensors",
                                              "checkpoint.safetensors.next",
                                              "checkpoint.optim.safetensors.next"};
  return names.count(name) != 0 || is_temporary_file_name(name);
}

// A lock file (NAME.lock) is another process's business, not part of the run: a sweep holds
// RUN/cell.lock while a run trains (sweep.hpp). It is neither counted nor removed, since removing
// a lock file that is held lets a second process lock a new file of the same name.
bool is_lock_file_name(const std::string& name) {
  return name.size() > 5 && name.compare(name.size() - 5, 5, ".lock") == 0;
}

// What a continuation may change (see check_continuation): the learning-rate schedule and
// clipping that drive it, the machine, and the instruments; options of other commands do not
// apply to a run.
bool may_change_on_resume(const OptionSpec& o) {
  static const std::set<std::string> keys = {
      "steps",     "lr",         "min_lr",    "schedule",   "warmup",       "clip_norm",
      "threads",   "precision",  "log_every", "eval_every", "eval_batches", "save_every",
      "keep_last", "diag_every", "progress",  "data",       "out_dir",      "vocab_size"};
  return o.group == "prepare" || o.group == "generate" || o.group == "translate" ||
         keys.count(o.key) != 0;
}

}  // namespace

void check_run_directory(const fs::path& out, RunStart start) {
  std::error_code ec;
  const fs::file_status st = fs::status(out, ec);
  const bool present = fs::exists(st);
  if (start == RunStart::Resume) {
    if (!present || !fs::exists(out / "config.yaml", ec))
      throw UserError((out / "checkpoint.safetensors").string() +
                      ": no checkpoint to resume from (" + out.string() +
                      " holds no run: no config.yaml)");
    return;
  }
  if (!present) return;
  if (!fs::is_directory(st)) throw UserError(out.string() + ": exists and is not a directory");
  bool empty = true, only_run_files = true;
  for (const auto& e : fs::directory_iterator(out, ec)) {
    const std::string name = e.path().filename().string();
    if (is_temporary_file_name(name)) continue;  // of a writer killed before config.yaml
    if (is_lock_file_name(name)) continue;
    empty = false;
    if (!is_run_file(name)) only_run_files = false;
  }
  if (ec) throw UserError(out.string() + ": cannot list: " + ec.message());
  if (empty) return;
  const bool run = only_run_files || fs::exists(out / "config.yaml", ec);
  if (!run)
    throw UserError(out.string() +
                    ": not empty and not a normlab run; train into a new or empty directory");
  if (start == RunStart::New)
    throw UserError(out.string() +
                    ": holds a run already; give --resume to continue it or --overwrite to "
                    "replace it");
}

Config read_run_config(const fs::path& out) {
  Config c = Config::defaults();
  c.merge_file((out / "config.yaml").string());
  return c;
}

const OptionSpec* first_difference(const Config& a, const Config& b,
                                   const std::function<bool(const OptionSpec&)>& ignored) {
  const nlohmann::json ja = a.to_json(), jb = b.to_json();
  for (const OptionSpec& o : all_options())
    if (!ignored(o) && ja[o.key] != jb[o.key]) return &o;
  return nullptr;
}

void check_continuation(const Config& run, const Config& config, const fs::path& out) {
  const OptionSpec* o = first_difference(run, config, may_change_on_resume);
  if (!o) return;
  throw UserError("option '" + o->key + "': the run in " + out.string() + " has " +
                  run.to_json()[o->key].dump() +
                  " (config.yaml), a resumed run cannot change it to " +
                  config.to_json()[o->key].dump() +
                  "; start a new run for that (another out_dir, or --overwrite)");
}

void clear_run_directory(const fs::path& out) {
  std::error_code ec;
  std::vector<fs::path> doomed;
  for (const auto& e : fs::directory_iterator(out, ec)) {
    const std::string name = e.path().filename().string();
    if (is_run_file(name) && name != "config.yaml") doomed.push_back(e.path());
  }
  for (const auto& p : doomed) {
    fs::remove_all(p, ec);
    if (ec) throw UserError(p.string() + ": cannot remove: " + ec.message());
  }
  fs::remove(out / "config.yaml", ec);
  sync_directory(out);
}

}  // namespace normlab
