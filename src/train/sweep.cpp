#include "train/sweep.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/files.hpp"
#include "core/options.hpp"
#include "io/safetensors.hpp"
#include "model/block_description.hpp"
#include "train/progress.hpp"
#include "train/trainer.hpp"

namespace normlab {

namespace fs = std::filesystem;

namespace {

std::string line_of(const YAML::Node& n) {
  return "line " + std::to_string(n.Mark().line + 1);
}

// Throws the vocabulary's "unknown option 'x' (did you mean 'y'?)" error for an unknown key.
void check_key(const std::string& key, const std::string& origin) {
  if (!find_option(key)) Config::defaults().set(key, "", origin);
}

// Shortest readable text of a number for a run name: the shorter of fixed and scientific
// notation (ties go to scientific, so 0.01 reads 1e-2), exponent without padding (1e-03 -> 1e-3).
std::string name_number(double v) {
  char f[64], s[64];
  auto rf = std::to_chars(f, f + sizeof f, v, std::chars_format::fixed);
  auto rs = std::to_chars(s, s + sizeof s, v, std::chars_format::scientific);
  std::string fixed(f, rf.ptr), sci(s, rs.ptr);
  const size_t e = sci.find('e');
  std::string mant = sci.substr(0, e), exp = sci.substr(e + 1), sign;
  if (!exp.empty() && (exp[0] == '+' || exp[0] == '-')) {
    if (exp[0] == '-') sign = "-";
    exp.erase(0, 1);
  }
  exp.erase(0, std::min(exp.find_first_not_of('0'), exp.size() - 1));
  sci = mant + "e" + sign + exp;
  return sci.size() <= fixed.size() ? sci : fixed;
}

// Filesystem-safe: letters, digits and "._+-" stay, parentheses vanish, anything else becomes
// '_' ("1/sqrt(L)" -> "1_sqrtL").
std::string sanitize(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) || std::strchr("._+-", c))
      out += c;
    else if (c != '(' && c != ')')
      out += '_';
  }
  return out;
}

std::string value_text(const Config& c, const std::string& key) {
  switch (find_option(key)->type) {
    case OptionType::Float:
      return name_number(c.get_float(key));
    case OptionType::Int:
      return std::to_string(c.get_int(key));
    case OptionType::Bool:
      return c.get_bool(key) ? "true" : "false";
    case OptionType::String:
      break;
  }
  return c.get_string(key);
}

// The checks DecoderLM and train() would make at startup, without allocating the model, so that
// a bad cell fails before the first run rather than hours into the sweep.
void validate_cell(const Config& c) {
  for (const char* key :
       {"d_model", "n_heads", "n_layers", "d_ff", "seq_len", "batch_size", "grad_accum", "steps"})
    if (c.get_int(key) <= 0) throw UserError(std::string("option '") + key + "' must be positive");
  if (c.get_int("d_model") % c.get_int("n_heads") != 0)
    throw UserError("option 'n_heads': " + std::to_string(c.get_int("n_heads")) +
                    " does not divide d_model " + std::to_string(c.get_int("d_model")));
  const double dropout = c.get_float("dropout");
  if (!(dropout >= 0 && dropout < 1)) throw UserError("option 'dropout' must be in [0, 1)");
  describe_stack(c);
}

void check_corpus(const std::string& data) {
  if (data.empty())
    throw UserError("option 'data': give a prepared corpus directory ('normlab prepare')");
  for (const char* f : {"tokenizer.model", "train.bin", "valid.bin"}) {
    const fs::path p = fs::path(data) / f;
    if (!fs::is_regular_file(p))
      throw UserError(p.string() + ": not found (is '" + data +
                      "' a corpus made by 'normlab prepare'?)");
  }
}

// Keys that do not change a run's result (or are set by the run itself): a finished or
// interrupted run may be reused when only these differ.
bool ignored_in_comparison(const OptionSpec& o) {
  static const std::set<std::string> keys = {"out_dir", "progress",  "threads",       "vocab_size",
                                             "input",   "tokenizer", "valid_fraction"};
  return o.group == "generate" || o.group == "translate" || keys.count(o.key) != 0;
}

void check_same_run(const Config& recorded, const Config& wanted, const std::string& path) {
  const nlohmann::json a = recorded.to_json(), b = wanted.to_json();
  for (const OptionSpec& o : all_options()) {
    if (ignored_in_comparison(o) || a[o.key] == b[o.key]) continue;
    throw UserError(path + ": this run was made with " + o.key + " " + a[o.key].dump() +
                    ", the sweep asks for " + b[o.key].dump() +
                    "; remove the run directory or use another --out_dir");
  }
}

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(path.string() + ": cannot open: " + std::strerror(errno));
  try {
    return nlohmann::json::parse(in);
  } catch (const std::exception&) {
    throw UserError(path.string() + ": not valid JSON (remove the run directory to run it again)");
  }
}

// Temporary files a killed run leaves behind: NAME.tmp (trainer) and NAME.tmp.<pid> (safetensors).
void remove_stale_tmp_files(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  std::vector<fs::path> stale;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const size_t t = name.rfind(".tmp");
    if (t == std::string::npos || !entry.is_regular_file()) continue;
    const std::string rest = name.substr(t + 4);
    const bool pid_suffix =
        rest.size() > 1 && rest[0] == '.' && std::all_of(rest.begin() + 1, rest.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c));
        });
    if (rest.empty() || pid_suffix) stale.push_back(entry.path());
  }
  for (const auto& p : stale) fs::remove(p, ec);
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

struct RunRow {
  std::vector<std::string> fields;  // in kCsvColumns order
  std::string status;
  double valid_loss = NAN;
};

const char* const kCsvColumns[] = {
    "run",    "placement", "norm",       "n_layers",         "lr",           "dt", "seed",
    "status", "steps",     "final_loss", "final_valid_loss", "skipped_steps"};

RunRow read_row(const SweepCell& cell) {
  const fs::path path = fs::path(cell.config.get_string("out_dir")) / "summary.json";
  const nlohmann::json j = read_json(path);
  auto number = [&](const char* key) {
    return j.contains(key) && j[key].is_number() ? j[key].dump() : std::string();
  };
  RunRow r;
  r.status = j.contains("status") && j["status"].is_string() ? j["status"].get<std::string>() : "";
  if (j.contains("final_valid_loss") && j["final_valid_loss"].is_number())
    r.valid_loss = j["final_valid_loss"].get<double>();
  const nlohmann::json c = cell.config.to_json();
  r.fields = {cell.name,
              c["placement"].get<std::string>(),
              c["norm"].get<std::string>(),
              c["n_layers"].dump(),
              c["lr"].dump(),
              c["dt"].get<std::string>(),
              c["seed"].dump(),
              r.status,
              number("steps"),
              number("final_loss"),
              number("final_valid_loss"),
              number("skipped_steps")};
  return r;
}

void write_csv(const fs::path& sweep_dir, const std::vector<RunRow>& rows) {
  std::string text;
  for (const char* col : kCsvColumns) text += std::string(text.empty() ? "" : ",") + col;
  text += "\n";
  for (const RunRow& r : rows) {
    for (size_t i = 0; i < r.fields.size(); ++i) text += (i ? "," : "") + csv_field(r.fields[i]);
    text += "\n";
  }
  write_text_atomic(sweep_dir / "summary.csv", text);
}

// An exclusive flock on SWEEP_DIR/sweep.lock for the sweep's lifetime; the kernel drops it when
// the process dies, so a killed sweep never leaves a stale lock.
class DirLock {
 public:
  explicit DirLock(const fs::path& dir) {
    const fs::path path = dir / "sweep.lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw UserError(path.string() + ": cannot open: " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      throw UserError(dir.string() + ": another sweep is running in this directory");
    }
  }
  ~DirLock() { ::close(fd_); }
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_ = -1;
};

void say(const std::string& line) {
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

// Continues an interrupted run from its checkpoint when that is possible; otherwise (checkpoint
// unreadable, already at the last step without a summary, optimizer state out of step with the
// model after a kill between the two writes) starts it over: training is deterministic, so the
// result is the same, only slower.
void run_interrupted(const Config& config, const std::string& prefix, bool* resumed) {
  const fs::path ckpt = fs::path(config.get_string("out_dir")) / "checkpoint.safetensors";
  long step = -1;
  std::string why;
  try {
    const SafeTensorsFile f = read_safetensors(ckpt.string());
    auto it = f.metadata.find("normlab.step");
    if (it == f.metadata.end()) throw UserError(ckpt.string() + ": no 'normlab.step' in metadata");
    step = std::stol(it->second);
  } catch (const UserError& e) {
    why = e.what();
  } catch (const std::exception&) {
    why = ckpt.string() + ": unreadable 'normlab.step' in metadata";
  }
  if (step > 0 && step < config.get_int("steps")) {
    say(prefix + ": resumed at step " + std::to_string(step));
    try {
      train(config, true);
      *resumed = true;
      return;
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
  train(config, false);
}

}  // namespace

SweepFile read_sweep_file(const std::string& path) {
  YAML::Node root = load_yaml_file(path);
  if (!root.IsMap())
    throw UserError(path + ": expected a mapping with 'grid' and/or 'base' at the top level");
  SweepFile out;
  std::set<std::string> sections, keys;
  for (const auto& section : root) {
    const std::string where = path + ": " + line_of(section.first);
    const std::string name = section.first.IsScalar() ? section.first.Scalar() : "";
    if (name != "grid" && name != "base")
      throw UserError(where + ": unknown key '" + name + "' (a sweep file has 'grid' and 'base')");
    if (!sections.insert(name).second) throw UserError(where + ": '" + name + "' is given twice");
    const YAML::Node& body = section.second;
    if (body.IsNull()) continue;
    if (!body.IsMap())
      throw UserError(where + ": '" + name +
                      "' expects a mapping of option: " + (name == "grid" ? "[values]" : "value"));
    for (const auto& kv : body) {
      const std::string origin = path + ": " + line_of(kv.first);
      if (!kv.first.IsScalar()) throw UserError(origin + ": option names must be text");
      const std::string key = kv.first.Scalar();
      check_key(key, origin);
      if (!keys.insert(key).second)
        throw UserError(origin + ": option '" + key + "' is given twice (in grid or base)");
      const YAML::Node& v = kv.second;
      if (name == "base") {
        if (v.IsSequence() || v.IsMap())
          throw UserError(origin + ": option '" + key +
                          "' in base expects a single value (lists go under grid)");
        out.base.push_back({key, v.IsScalar() ? v.Scalar() : std::string(), origin});
        continue;
      }
      SweepAxis axis{key, {}, origin};
      if (v.IsScalar()) {
        axis.values.push_back(v.Scalar());
      } else if (v.IsSequence()) {
        for (const auto& item : v) {
          if (!item.IsScalar())
            throw UserError(path + ": " + line_of(item) + ": grid axis '" + key +
                            "' expects a list of single values");
          axis.values.push_back(item.Scalar());
        }
      } else {
        throw UserError(origin + ": grid axis '" + key + "' expects a list of values");
      }
      out.grid.push_back(std::move(axis));
    }
  }
  return out;
}

std::vector<SweepAxis> combine_axes(std::vector<SweepAxis> earlier,
                                    const std::vector<SweepAxis>& later) {
  for (const SweepAxis& a : later) {
    auto same = [&](const SweepAxis& b) { return b.key == a.key; };
    auto it = std::find_if(earlier.begin(), earlier.end(), same);
    if (it != earlier.end())
      *it = a;
    else
      earlier.push_back(a);
  }
  return earlier;
}

std::string run_name(const Config& c, const std::vector<std::string>& axis_keys) {
  auto on_grid = [&](const std::string& k) {
    return std::find(axis_keys.begin(), axis_keys.end(), k) != axis_keys.end();
  };
  std::string name = sanitize(c.get_string("placement"));
  if (on_grid("norm")) name += "-" + sanitize(c.get_string("norm"));
  name += "-L" + value_text(c, "n_layers") + "-lr" + sanitize(value_text(c, "lr")) + "-dt" +
          sanitize(value_text(c, "dt"));
  static const std::set<std::string> named = {"placement", "norm", "n_layers", "lr", "dt", "seed"};
  for (const auto& k : axis_keys)
    if (!named.count(k)) name += "-" + k + sanitize(value_text(c, k));
  return name + "-s" + value_text(c, "seed");
}

std::vector<SweepCell> expand_grid(const Config& base, const std::vector<SweepAxis>& given) {
  const std::string sweep_dir = base.get_string("out_dir");
  if (sweep_dir.empty())
    throw UserError("option 'out_dir': give the sweep directory (--out_dir SWEEP_DIR)");
  // Fixed axis order, seed last so that replicates of one setting are consecutive runs.
  std::vector<SweepAxis> axes;
  for (const char* k : {"placement", "norm", "n_layers", "lr", "dt"})
    for (const auto& a : given)
      if (a.key == k) axes.push_back(a);
  for (const auto& a : given)
    if (std::find_if(axes.begin(), axes.end(),
                     [&](const SweepAxis& b) { return b.key == a.key; }) == axes.end() &&
        a.key != "seed")
      axes.push_back(a);
  for (const auto& a : given)
    if (a.key == "seed") axes.push_back(a);

  std::vector<std::string> keys;
  for (const SweepAxis& a : axes) {
    check_key(a.key, a.origin);
    if (a.key == "out_dir")
      throw UserError(a.origin +
                      ": 'out_dir' cannot be a grid axis (each run's directory is named by the "
                      "sweep)");
    if (a.values.empty()) throw UserError(a.origin + ": grid axis '" + a.key + "' has no values");
    // Each value must be valid for its option, and two spellings of one value (1e-3, 0.001)
    // would be the same run twice.
    Config scratch = base;
    std::set<std::string> seen;
    for (const auto& v : a.values) {
      scratch.set(a.key, v, a.origin);
      if (!seen.insert(scratch.to_json()[a.key].dump()).second)
        throw UserError(a.origin + ": value '" + v + "' of '" + a.key + "' appears twice");
    }
    keys.push_back(a.key);
  }

  std::vector<SweepCell> cells;
  std::set<std::string> names, corpora;
  std::vector<size_t> idx(axes.size(), 0);
  while (true) {
    Config c = base;
    for (size_t i = 0; i < axes.size(); ++i)
      c.set(axes[i].key, axes[i].values[idx[i]], axes[i].origin);
    const std::string name = run_name(c, keys);
    const std::string dir = (fs::path(sweep_dir) / name).string();
    try {
      validate_cell(c);
    } catch (const UserError& e) {
      throw UserError(dir + ": " + e.what());
    }
    if (corpora.insert(c.get_string("data")).second) check_corpus(c.get_string("data"));
    if (!names.insert(name).second)
      throw UserError(dir + ": two cells of the grid map to this run directory");
    c.set("out_dir", dir, "sweep");
    cells.push_back({name, std::move(c)});
    // Odometer over the axes, the last (seed) fastest.
    size_t i = axes.size();
    while (i > 0 && ++idx[i - 1] == axes[i - 1].values.size()) idx[--i] = 0;
    if (i == 0) break;
  }
  return cells;
}

RunState inspect_run(const SweepCell& cell) {
  const fs::path dir(cell.config.get_string("out_dir"));
  const fs::path summary = dir / "summary.json", yaml = dir / "config.yaml";
  if (fs::exists(summary)) {
    const nlohmann::json j = read_json(summary);
    if (j.contains("config"))
      check_same_run(Config::from_json(j["config"], summary.string()), cell.config,
                     summary.string());
    return RunState::Done;
  }
  if (!fs::exists(dir / "checkpoint.safetensors")) return RunState::Fresh;
  if (fs::exists(yaml)) {
    Config recorded = Config::defaults();
    recorded.merge_file(yaml.string());
    check_same_run(recorded, cell.config, yaml.string());
  }
  return RunState::Resume;
}

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
  DirLock lock(sweep_dir);

  SweepOutcome outcome;
  const long n = static_cast<long>(cells.size());
  ProgressBar bar(n, progress);
  std::vector<RunRow> rows;
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
      remove_stale_tmp_files(cell.config.get_string("out_dir"));
      ++outcome.runs;
      if (states[static_cast<size_t>(i)] == RunState::Resume) {
        bool resumed = false;
        run_interrupted(cell.config, prefix, &resumed);
        if (resumed) ++outcome.resumed;
      } else {
        train(cell.config, false);
      }
    }
    RunRow row = read_row(cell);
    if (row.status != "ok") ++outcome.diverged;
    if (states[static_cast<size_t>(i)] != RunState::Done) {
      char valid[64] = "";
      if (row.status == "ok" && std::isfinite(row.valid_loss))
        std::snprintf(valid, sizeof valid, ", valid loss %.4f", row.valid_loss);
      say(prefix + ": " + row.status + valid);
    }
    rows.push_back(std::move(row));
    write_csv(sweep_dir, rows);
  }
  return outcome;
}

}  // namespace normlab
