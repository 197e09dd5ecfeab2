// Effective configuration: defaults from the option vocabulary (options.hpp), then config files
// in order (later override earlier), then command-line flags. Values are validated against the
// option's type and choices when set; errors name the file (or flag) and the key.
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace normlab {

// Thrown for any user-facing problem; the CLI prints what() on one line and exits non-zero.
struct UserError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Config {
 public:
  // Every option at its default.
  static Config defaults();

  // Merge a JSON or YAML file (chosen by content: YAML is a superset of JSON). Unknown keys,
  // wrong types, invalid choices and syntax errors throw UserError("FILE: ...").
  void merge_file(const std::string& path);
  // Set one key from text; `origin` names where it came from (file path or "--flag").
  void set(const std::string& key, const std::string& value, const std::string& origin);
  bool has(const std::string& key) const { return values_.count(key) != 0; }

  long get_int(const std::string& key) const;
  double get_float(const std::string& key) const;
  const std::string& get_string(const std::string& key) const;
  bool get_bool(const std::string& key) const;

  // Typed JSON object of all keys (used in checkpoint metadata and --dump-config).
  nlohmann::json to_json() const;
  // Inverse of to_json; unknown keys throw UserError naming `origin`.
  static Config from_json(const nlohmann::json& j, const std::string& origin);
  // YAML text, one key per line with its help as a comment, grouped as in options.cpp.
  std::string dump_yaml() const;

 private:
  std::map<std::string, std::string> values_;  // key -> canonical text
};

}  // namespace normlab
