#include "report/run_data.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>

#include "core/config.hpp"
#include "report/sanity_check_data.hpp"

namespace normlab::report {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A number field, or NaN when absent, null (how non-finite values are written) or not a number.
double number_or_nan(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return kNaN;
  return it->get<double>();
}

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// Text of a scalar config value from summary.json's typed config.
std::string json_scalar_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number()) return format_number(v.get<double>());
  return "";
}

bool is_run_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p / "summary.json", ec) ||
         fs::is_regular_file(p / "metrics.jsonl", ec);
}

std::vector<fs::path> sorted_subdirs(const fs::path& p) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(p, ec))
    if (e.is_directory(ec)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// Calls f(line_number, parsed_object) for every JSON object line of a .jsonl file; malformed lines
// (a run killed mid-write leaves a truncated last line) become warnings.
template <class F>
void for_each_jsonl(const fs::path& path, std::vector<std::string>& warnings, F&& f) {
  std::ifstream in(path);
  if (!in) return;
  std::string line;
  int64_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      warnings.push_back(path.string() + ":" + std::to_string(lineno) +
                         ": skipped a line that is not a JSON object");
      continue;
    }
    f(lineno, j);
  }
}

void read_config_yaml(const fs::path& path, RunData& run, std::map<std::string, std::string>& cfg) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return;
  try {
    YAML::Node root = YAML::LoadFile(path.string());
    if (!root.IsMap()) {
      run.warnings.push_back(path.string() + ": not a YAML mapping; ignored");
      return;
    }
    for (const auto& kv : root)
      if (kv.second.IsScalar()) cfg[kv.first.as<std::string>()] = kv.second.as<std::string>();
  } catch (const YAML::Exception& e) {
    run.warnings.push_back(path.string() + ": invalid YAML (" + e.what() + "); ignored");
  }
}

void read_summary(const fs::path& path, RunData& run, std::map<std::string, std::string>& cfg) {
  std::ifstream in(path);
  if (!in) return;
  json j = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    run.warnings.push_back(path.string() + ": not a JSON object; ignored");
    return;
  }
  run.has_summary = true;
  if (auto it = j.find("status"); it != j.end() && it->is_string()) run.status = *it;
  if (auto it = j.find("steps"); it != j.end() && it->is_number()) run.steps = it->get<int64_t>();
  run.final_loss = number_or_nan(j, "final_loss");
  run.final_valid_loss = number_or_nan(j, "final_valid_loss");
  run.unigram_loss = number_or_nan(j, "unigram_loss");
  // The typed config in summary.json is the same effective config as config.yaml; it wins when
  // both exist because it cannot have been edited by hand after the run.
  if (auto it = j.find("config"); it != j.end() && it->is_object())
    for (const auto& [k, v] : it->items())
      if (v.is_primitive()) cfg[k] = json_scalar_text(v);
}

void read_metrics(const fs::path& path, RunData& run) {
  for_each_jsonl(path, run.warnings, [&](int64_t, const json& j) {
    auto step_it = j.find("step");
    if (step_it == j.end() || !step_it->is_number()) return;
    const auto step = step_it->get<int64_t>();
    if (j.contains("loss")) run.train_loss.emplace_back(step, number_or_nan(j, "loss"));
    if (j.contains("valid_loss")) run.valid_loss.emplace_back(step, number_or_nan(j, "valid_loss"));
    if (j.contains("lr")) run.lr_curve.emplace_back(step, number_or_nan(j, "lr"));
    if (j.contains("grad_norm")) run.grad_norm.emplace_back(step, number_or_nan(j, "grad_norm"));
  });
}

void read_stats(const json& block, const char* key, ProbeRecord& rec, size_t index,
                std::initializer_list<std::pair<const char*, ProbeQuantity>> wanted) {
  auto it = block.find(key);
  if (it == block.end() || !it->is_object()) return;
  for (const auto& [stat, q] : wanted)
    rec.values[static_cast<int>(q)][index] = number_or_nan(*it, stat);
}

// The block totals of a record's "params" (docs/diagnostics.md): the gradient norm of the block's
// tensors taken together, sqrt(sum_i grad_norm_i^2), and their update ratio
// ||dW|| / ||W|| = sqrt(sum_i (update_ratio_i weight_norm_i)^2) / sqrt(sum_i weight_norm_i^2).
// A null (non-finite) entry makes its block's total NaN; a record without weight_norm has no
// update ratio.
void read_block_param_norms(const json& params, ProbeRecord& rec) {
  const size_t n = rec.values[0].size();
  std::vector<double> g2(n, 0.0), d2(n, 0.0), w2(n, 0.0);
  std::vector<bool> seen(n, false);
  for (const auto& [name, entry] : params.items()) {
    const int64_t block = param_block(name);
    if (block < 1 || static_cast<size_t>(block) > n || !entry.is_object()) continue;
    const auto i = static_cast<size_t>(block - 1);
    const double g = number_or_nan(entry, "grad_norm");
    const double w = entry.contains("weight_norm") ? number_or_nan(entry, "weight_norm") : kNaN;
    const double r = number_or_nan(entry, "update_ratio");
    seen[i] = true;
    g2[i] += g * g;
    d2[i] += r * w * (r * w);
    w2[i] += w * w;
  }
  for (size_t i = 0; i < n; ++i) {
    if (!seen[i]) continue;
    rec.values[static_cast<int>(ProbeQuantity::kParamGradNorm)][i] = std::sqrt(g2[i]);
    rec.values[static_cast<int>(ProbeQuantity::kUpdateRatio)][i] =
        w2[i] > 0 ? std::sqrt(d2[i] / w2[i]) : kNaN;
  }
}

void read_diagnostics(const fs::path& path, RunData& run) {
  for_each_jsonl(path, run.warnings, [&](int64_t lineno, const json& j) {
    auto step_it = j.find("step");
    auto blocks_it = j.find("blocks");
    if (step_it == j.end() || !step_it->is_number() || blocks_it == j.end() ||
        !blocks_it->is_array()) {
      run.warnings.push_back(path.string() + ":" + std::to_string(lineno) +
                             ": skipped a record without \"step\" and \"blocks\"");
      return;
    }
    ProbeRecord rec;
    rec.step = step_it->get<int64_t>();
    int64_t n_blocks = 0;
    for (const auto& b : *blocks_it)
      if (b.is_object() && b.contains("block") && b["block"].is_number_integer())
        n_blocks = std::max(n_blocks, b["block"].get<int64_t>());
    if (n_blocks <= 0 || n_blocks > 100000) return;
    for (auto& v : rec.values) v.assign(static_cast<size_t>(n_blocks), kNaN);
    for (const auto& b : *blocks_it) {
      if (!b.is_object() || !b.contains("block") || !b["block"].is_number_integer()) continue;
      const int64_t l = b["block"].get<int64_t>();
      if (l < 1) continue;
      const auto i = static_cast<size_t>(l - 1);
      using Q = ProbeQuantity;
      rec.values[static_cast<int>(Q::kGradInput)][i] = number_or_nan(b, "grad_input");
      rec.values[static_cast<int>(Q::kGradAttnOut)][i] = number_or_nan(b, "grad_attn_out");
      rec.values[static_cast<int>(Q::kGradMlpOut)][i] = number_or_nan(b, "grad_mlp_out");
      read_stats(b, "input", rec, i,
                 {{"rms", Q::kInputRms},
                  {"var", Q::kInputVar},
                  {"batch_var", Q::kInputBatchVar},
                  {"mean_abs", Q::kInputMeanAbs}});
      read_stats(b, "attn_out", rec, i, {{"rms", Q::kAttnOutRms}});
      read_stats(b, "mlp_out", rec, i, {{"rms", Q::kMlpOutRms}});
    }
    if (auto ps = j.find("params"); ps != j.end() && ps->is_object())
      read_block_param_norms(*ps, rec);
    run.probes.push_back(std::move(rec));
  });
}

}  // namespace

const char* probe_quantity_key(ProbeQuantity q) {
  switch (q) {
    case ProbeQuantity::kGradInput:
      return "grad_input";
    case ProbeQuantity::kGradAttnOut:
      return "grad_attn_out";
    case ProbeQuantity::kGradMlpOut:
      return "grad_mlp_out";
    case ProbeQuantity::kInputRms:
      return "input.rms";
    case ProbeQuantity::kInputVar:
      return "input.var";
    case ProbeQuantity::kInputBatchVar:
      return "input.batch_var";
    case ProbeQuantity::kInputMeanAbs:
      return "input.mean_abs";
    case ProbeQuantity::kAttnOutRms:
      return "attn_out.rms";
    case ProbeQuantity::kMlpOutRms:
      return "mlp_out.rms";
    case ProbeQuantity::kParamGradNorm:
      return "param_grad_norm";
    case ProbeQuantity::kUpdateRatio:
      return "update_ratio";
    case ProbeQuantity::kCount:
      break;
  }
  return "";
}

int64_t param_block(const std::string& name) {
  std::string_view rest(name);
  if (rest.rfind("decoder.", 0) == 0) rest.remove_prefix(8);
  if (rest.rfind("blocks.", 0) != 0) return 0;
  rest.remove_prefix(7);
  int64_t n = 0;
  size_t digits = 0;
  while (digits < rest.size() && digits < 9 && rest[digits] >= '0' && rest[digits] <= '9')
    n = n * 10 + (rest[digits++] - '0');
  if (digits == 0 || digits == rest.size() || rest[digits] != '.') return 0;
  return n + 1;
}

std::vector<std::string> find_run_dirs(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  std::set<fs::path> seen;
  auto add = [&](const fs::path& p) {
    std::error_code ec;
    fs::path canon = fs::weakly_canonical(p, ec);
    if (ec) canon = p;
    if (seen.insert(canon).second) out.push_back(p.string());
  };
  for (const auto& arg : paths) {
    const fs::path p(arg);
    std::error_code ec;
    if (!fs::exists(p, ec)) throw UserError(arg + ": no such file or directory");
    if (is_sanity_check_path(p)) continue;  // not a run: sanity_check_data.hpp reads it
    if (!fs::is_directory(p, ec))
      throw UserError(arg + ": not a directory (expected a run, a sweep or a sanity-check .json)");
    if (is_run_dir(p)) {
      add(p);
      continue;
    }
    size_t before = out.size();
    for (const auto& child : sorted_subdirs(p)) {
      if (is_run_dir(child)) {
        add(child);
        continue;
      }
      for (const auto& grandchild : sorted_subdirs(child))
        if (is_run_dir(grandchild)) add(grandchild);
    }
    if (out.size() == before && !fs::is_regular_file(p / kSanityCheckFile, ec))
      throw UserError(arg +
                      ": no run directory found (a run holds summary.json or metrics.jsonl; "
                      "searched two levels down)");
  }
  return out;
}

RunData load_run(const std::string& dir) {
  RunData run;
  run.dir = dir;
  run.final_loss = kNaN;
  run.final_valid_loss = kNaN;
  run.unigram_loss = kNaN;
  const fs::path p(dir);

  std::map<std::string, std::string> cfg;
  read_config_yaml(p / "config.yaml", run, cfg);
  read_summary(p / "summary.json", run, cfg);
  read_metrics(p / "metrics.jsonl", run);
  read_diagnostics(p / "diagnostics.jsonl", run);

  run.config = cfg;
  auto field = [&](const char* key) {
    auto it = cfg.find(key);
    return it == cfg.end() ? std::string() : it->second;
  };
  run.placement = field("placement");
  run.norm = field("norm");
  run.dt = field("dt");
  run.seed = field("seed");
  if (std::string lr = field("lr"); !lr.empty()) {
    // Normalise "0.001" and "1e-3" alike so the table reads consistently.
    char* end = nullptr;
    const double v = std::strtod(lr.c_str(), &end);
    run.lr = (end && *end == '\0') ? format_number(v) : lr;
  }
  if (std::string L = field("n_layers"); !L.empty()) {
    char* end = nullptr;
    const long v = std::strtol(L.c_str(), &end, 10);
    if (end && *end == '\0' && v > 0 && v < 1000000) run.n_layers = static_cast<int>(v);
  }
  // A run without a config but with probes still knows its depth.
  if (run.n_layers == 0 && !run.probes.empty())
    run.n_layers = static_cast<int>(run.probes.back().values[0].size());

  if (run.status.empty()) run.status = run.has_summary ? "unknown" : "no summary";
  run.diverged = run.status.rfind("diverged", 0) == 0;

  // Without summary.json (a run still going, or killed) the last logged values stand in. With one,
  // its nulls are kept: a diverged run's last evaluation may be the step-0 one, which would read
  // as a final loss.
  if (!run.has_summary && !run.train_loss.empty()) run.final_loss = run.train_loss.back().second;
  if (!run.has_summary && !run.valid_loss.empty())
    run.final_valid_loss = run.valid_loss.back().second;
  if (run.steps < 0) {
    int64_t last = -1;
    for (const auto& [s, v] : run.train_loss) last = std::max(last, s);
    for (const auto& [s, v] : run.valid_loss) last = std::max(last, s);
    for (const auto& r : run.probes) last = std::max(last, r.step);
    run.steps = last;
  }
  return run;
}

void assign_short_names(std::vector<RunData>& runs) {
  // Start from the last path component and add parents only where names collide.
  std::vector<int> depth(runs.size(), 1);
  auto name_of = [&](size_t i) {
    fs::path p = fs::path(runs[i].dir).lexically_normal();
    if (!p.has_filename()) p = p.parent_path();
    std::vector<std::string> comps;
    for (const auto& c : p) comps.push_back(c.string());
    while (!comps.empty() && (comps.back().empty() || comps.back() == ".")) comps.pop_back();
    const int n = static_cast<int>(comps.size());
    const int k = std::min(depth[i], std::max(n, 1));
    std::string s;
    for (int c = n - k; c < n; ++c) {
      if (c < 0) continue;
      if (!s.empty()) s += "/";
      s += comps[static_cast<size_t>(c)];
    }
    return s.empty() ? runs[i].dir : s;
  };
  for (int round = 0; round < 8; ++round) {
    std::map<std::string, std::vector<size_t>> by_name;
    for (size_t i = 0; i < runs.size(); ++i) by_name[name_of(i)].push_back(i);
    bool changed = false;
    for (auto& [n, idx] : by_name) {
      if (idx.size() < 2) continue;
      for (size_t i : idx) ++depth[i];
      changed = true;
    }
    if (!changed) break;
  }
  for (size_t i = 0; i < runs.size(); ++i) runs[i].name = name_of(i);
}

}  // namespace normlab::report
