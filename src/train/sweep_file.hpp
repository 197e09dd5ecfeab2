// A sweep file (YAML or JSON, docs/sweep.md): {grid: {KEY: [values...]}, base: {KEY: value}}.
#pragma once
#include <string>
#include <vector>

#include "train/sweep_grid.hpp"

namespace normlab {

struct SweepSetting {
  std::string key, value, origin;
};

// Keys are checked against the option vocabulary; any problem throws UserError("FILE: ...").
struct SweepFile {
  std::vector<SweepAxis> grid;
  std::vector<SweepSetting> base;
};
SweepFile read_sweep_file(const std::string& path);

}  // namespace normlab
