#include "train/sweep_run_state.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>

#include "core/options.hpp"
#include "core/terminal.hpp"
#include "io/safetensors.hpp"
#include "kernels/precision.hpp"
#include "model/checkpoint.hpp"
#include "train/run_directory.hpp"
#include "train/trainer.hpp"

namespace normlab {

namespace fs = std::filesystem;

namespace {

// Keys that do not change a run's result (or are set by the run itself): a finished or
// interrupted run may be reused when only these differ.
bool ignored_in_comparison(const OptionSpec& o) {
  // `precision` is compared as what it resolves to (check_same_precision), not as written.
  static const std::set<std::string> keys = {"out_dir", "progress", "threads", "vocab_size",
                                             "precision"};
  static const std::set<std::string> groups = {"prepare", "generate", "translate",
                                               "sweep",   "sanity",   "grad"};
  return groups.count(o.group) != 0 || keys.count(o.key) != 0;
}

void check_same_run(const Config& recorded, const Config& wanted, const std::string& path) {
  const OptionSpec* o = first_difference(recorded, wanted, ignored_in_comparison);
  if (!o) return;
  throw UserError(path + ": this run was made with " + o->key + " " +
                  recorded.to_json()[o->key].dump() + ", the sweep asks for " +
                  wanted.to_json()[o->key].dump() +
                  "; remove the run directory or use another --out_dir");
}

// The cells of a grid are compared with each other, so they train in one matmul precision:
// `precision auto` on another kind of CPU, or a changed --precision, must not mix them. `trained`
// is what the run recorded ("fp32", "bf16", "bf16 (emulated)": emulation has bf16's numerics;
// empty for runs from before the record, which are not checked).
void check_same_precision(std::string trained, const Config& wanted, const std::string& path) {
  trained = trained.substr(0, trained.find(' '));
  const std::string option = wanted.get_string("precision");
  const std::string now = precision_name(resolve_precision(option).precision);
  if (trained.empty() || trained == now) return;
  throw UserError(path + ": this run trained with " + trained + " matmuls, the sweep would train " +
                  now + " (precision " + option + ", oneDNN ISA " + onednn_cpu_isa() +
                  "): give --precision " + trained +
                  " to keep the grid in one precision, or remove the run directory or use "
                  "another --out_dir");
}

void say_line(const std::string& line) {
  print_line(stderr, line);
}

}  // namespace

nlohmann::json read_run_summary(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(path.string() + ": cannot open: " + std::strerror(errno));
  try {
    return nlohmann::json::parse(in);
  } catch (const std::exception&) {
    throw UserError(path.string() + ": not valid JSON (remove the run directory to run it again)");
  }
}

RunState inspect_run(const SweepCell& cell) {
  const fs::path dir(cell.config.get_string("out_dir"));
  const fs::path summary = dir / "summary.json", yaml = dir / "config.yaml";
  if (fs::exists(summary)) {
    const nlohmann::json j = read_run_summary(summary);
    if (j.contains("config"))
      check_same_run(Config::from_json(j["config"], summary.string()), cell.config,
                     summary.string());
    std::string trained;
    if (auto it = j.find("matmul_precision"); it != j.end() && it->is_string()) trained = *it;
    check_same_precision(trained, cell.config, summary.string());
    // An interrupted run (SIGINT, SIGTERM) saved its state: continue it.
    if (j.value("status", std::string()).rfind("interrupted", 0) != 0) return RunState::Done;
  }
  const fs::path ckpt = dir / "checkpoint.safetensors";
  if (!fs::exists(ckpt)) return RunState::Fresh;
  if (fs::exists(yaml)) {
    Config recorded = Config::defaults();
    recorded.merge_file(yaml.string());
    check_same_run(recorded, cell.config, yaml.string());
  }
  // A run killed without a summary recorded its precision in its checkpoint; one that cannot be
  // read is started over (finish_interrupted_run), so it has nothing to keep.
  if (!fs::exists(summary)) {
    CheckpointInfo info;
    try {
      read_model_config(ckpt.string(), &info);
    } catch (const UserError&) {
    }
    check_same_precision(info.matmul_precision, cell.config, ckpt.string());
  }
  return RunState::Resume;
}

const char* to_string(RunState state) {
  switch (state) {
    case RunState::Done:
      return "done";
    case RunState::Resume:
      return "interrupted";
    case RunState::Fresh:
      break;
  }
  return "new";
}

// Starts over when the checkpoint is unreadable, already at the last step without a summary, or
// the optimizer state is out of step with the model after a kill between the two writes:
// training is deterministic, so the result is the same, only slower.
bool finish_interrupted_run(const Config& config, const std::string& prefix, const Ranks& ranks) {
  auto say = [&](const std::string& line) {
    if (ranks.is_root()) say_line(line);
  };
  const fs::path ckpt = fs::path(config.get_string("out_dir")) / "checkpoint.safetensors";
  long step = -1;
  std::string why;
  try {
    const SafeTensorsFile f = read_safetensors(ckpt.string());
    const auto stored = metadata_count(f.metadata, "normlab.step", ckpt.string());
    if (!stored) throw UserError(ckpt.string() + ": no 'normlab.step' in metadata");
    step = *stored;
  } catch (const UserError& e) {
    why = e.what();
  }
  if (step > 0 && step < config.get_int("steps")) {
    say(prefix + ": resumed at step " + std::to_string(step));
    try {
      train(config, RunStart::Resume, {}, ranks);
      return true;
    } catch (const UserError& e) {
      say(prefix + ": cannot resume (" + e.what() + "); starting over");
    }
  } else if (step >= config.get_int("steps")) {
    // The kill came between the last checkpoint and summary.json; train() cannot rebuild the
    // final losses from a checkpoint, so run again.
    say(prefix + ": checkpoint at the last step but no summary; starting over");
  } else {
    say(prefix + ": cannot resume (" + (why.empty() ? "checkpoint at step 0" : why) +
        "); starting over");
  }
  train(config, RunStart::Overwrite, {}, ranks);
  return false;
}

}  // namespace normlab
