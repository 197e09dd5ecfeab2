#include "report/sanity_check_data.hpp"

#include <cstdio>
#include <fstream>
#include <set>

#include "core/config.hpp"

namespace normlab::report {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string config_text(const json& config, const char* key) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  if (it->is_number()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", it->get<double>());
    return buf;
  }
  return it->dump();
}

}  // namespace

bool is_sanity_check_path(const fs::path& p) {
  std::error_code ec;
  return p.extension() == ".json" && fs::is_regular_file(p, ec);
}

SanityCheckData load_sanity_check(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UserError(path + ": cannot read");
  const json j = json::parse(in, nullptr, /*allow_exceptions=*/false);
  const std::string not_a_check =
      path + ": not a sanity-check JSON (normlab sanity-check --json_out): ";
  if (j.is_discarded() || !j.is_object()) throw UserError(not_a_check + "not a JSON object");
  auto depths = j.find("depths");
  if (depths == j.end() || !depths->is_array() || depths->empty())
    throw UserError(not_a_check + "no \"depths\"");
  SanityCheckData c;
  c.path = path;
  const fs::path p(path);
  c.name = p.has_parent_path() && p.parent_path() != "."
               ? p.parent_path().filename().string() + "/" + p.filename().string()
               : p.filename().string();
  const json config = j.value("config", json::object());
  c.placement = config_text(config, "placement");
  c.norm = config_text(config, "norm");
  c.dt = config_text(config, "dt");
  c.lr = config_text(config, "lr");
  c.seed = config_text(config, "seed");
  c.d_model = config_text(config, "d_model");
  for (const json& d : *depths) {
    auto coord = d.find("coord_check");
    if (!d.is_object() || !d.contains("depth") || !d["depth"].is_number_integer() ||
        coord == d.end() || !coord->is_array())
      throw UserError(not_a_check + "a depth without \"depth\" and \"coord_check\"");
    c.depths.push_back({{"depth", d["depth"]}, {"coord_check", *coord}});
  }
  return c;
}

std::vector<SanityCheckData> find_sanity_checks(const std::vector<std::string>& paths,
                                                const std::vector<std::string>& run_dirs) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& arg : paths)
    if (is_sanity_check_path(arg)) files.push_back(arg);
  for (const auto* dirs : {&paths, &run_dirs})
    for (const auto& dir : *dirs)
      if (fs::is_directory(dir, ec) && fs::is_regular_file(fs::path(dir) / kSanityCheckFile, ec))
        files.push_back((fs::path(dir) / kSanityCheckFile).string());
  std::vector<SanityCheckData> out;
  std::set<fs::path> seen;
  for (const auto& f : files) {
    fs::path canon = fs::weakly_canonical(f, ec);
    if (ec) canon = f;
    if (seen.insert(canon).second) out.push_back(load_sanity_check(f));
  }
  return out;
}

json sanity_check_json(const SanityCheckData& c) {
  return {{"name", c.name}, {"path", c.path},       {"placement", c.placement},
          {"norm", c.norm}, {"dt", c.dt},           {"lr", c.lr},
          {"seed", c.seed}, {"d_model", c.d_model}, {"depths", c.depths}};
}

}  // namespace normlab::report
