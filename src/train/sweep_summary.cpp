#include "train/sweep_summary.hpp"

#include "core/files.hpp"
#include "train/directory_lock.hpp"
#include "train/sweep_run_state.hpp"

namespace normlab {

namespace fs = std::filesystem;

namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

const char* const kCsvColumns[] = {
    "run",    "placement", "norm",       "n_layers",         "lr",           "dt", "seed",
    "status", "steps",     "final_loss", "final_valid_loss", "skipped_steps"};

}  // namespace

SweepRunRow read_run_row(const SweepCell& cell) {
  const fs::path path = fs::path(cell.config.get_string("out_dir")) / "summary.json";
  const nlohmann::json j = read_run_summary(path);
  auto number = [&](const char* key) {
    return j.contains(key) && j[key].is_number() ? j[key].dump() : std::string();
  };
  SweepRunRow r;
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

void update_sweep_summary(const fs::path& sweep_dir, const std::vector<SweepCell>& cells) {
  const auto lock = DirectoryLock::wait_lock(sweep_dir, "sweep.lock");
  std::vector<SweepRunRow> rows;
  for (const SweepCell& cell : cells) {
    const fs::path summary = fs::path(cell.config.get_string("out_dir")) / "summary.json";
    if (!fs::exists(summary)) continue;
    try {
      rows.push_back(read_run_row(cell));
    } catch (const UserError&) {
      // Another process resuming this interrupted run has just removed its summary.json.
      if (fs::exists(summary)) throw;
    }
  }
  std::string text;
  for (const char* col : kCsvColumns) text += std::string(text.empty() ? "" : ",") + col;
  text += "\n";
  for (const SweepRunRow& r : rows) {
    for (size_t i = 0; i < r.fields.size(); ++i) text += (i ? "," : "") + csv_field(r.fields[i]);
    text += "\n";
  }
  write_text_atomic(sweep_dir / "summary.csv", text);
}

}  // namespace normlab
