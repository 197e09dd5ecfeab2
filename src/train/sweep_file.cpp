#include "train/sweep_file.hpp"

#include <yaml-cpp/yaml.h>

#include <set>

#include "core/files.hpp"

namespace normlab {

namespace {

std::string line_of(const YAML::Node& n) {
  return "line " + std::to_string(n.Mark().line + 1);
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
      check_option_key(key, origin);
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
}  // namespace normlab
