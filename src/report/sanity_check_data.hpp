// What `normlab report` reads from a sanity-check JSON (`normlab sanity-check --json_out`,
// docs/sanity-check.md): the coordinate check of each depth, for the coordinate-check chart
// (docs/report.md). A check is given as a file argument, or found as `sanity-check.json` in a
// run directory or in a directory argument.
#pragma once
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace normlab::report {

// The name of a sanity-check JSON that a directory may hold.
inline constexpr const char* kSanityCheckFile = "sanity-check.json";

// Whether a report argument names a sanity-check JSON: a regular file whose name ends in .json.
bool is_sanity_check_path(const std::filesystem::path& p);

struct SanityCheckData {
  std::string path;  // as found on disk
  std::string name;  // the file's name, with its directory when that is not "."
  // The config fields that label a check (text, "" when unknown).
  std::string placement, norm, dt, lr, seed, d_model;
  // Per depth, in the file's order: {"depth": L, "coord_check": [{"step": s, "top_rms": ...,
  // "blocks": [{"input_rms", "sublayer_out_rms": [...], "update_ratio", "grad_rms"}, ...]}]},
  // as the sanity-check wrote them (nulls for non-finite values).
  nlohmann::json depths = nlohmann::json::array();
};

// Reads one sanity-check JSON. A file that is not JSON, or has no "depths" array whose entries
// hold a "depth" and a "coord_check" array, throws UserError naming the file.
SanityCheckData load_sanity_check(const std::string& path);

// The sanity checks among the report's inputs: every argument that is_sanity_check_path, then
// `sanity-check.json` in every argument directory and every run directory found (`run_dirs`),
// each file once, in that order.
std::vector<SanityCheckData> find_sanity_checks(const std::vector<std::string>& paths,
                                                const std::vector<std::string>& run_dirs);

// The page's entry of one check: {name, path, placement, norm, dt, lr, seed, d_model, depths}.
nlohmann::json sanity_check_json(const SanityCheckData& check);

}  // namespace normlab::report
