// Fuzz target: the config loader (src/core/config.cpp) as `--config FILE` uses it (YAML or JSON,
// merged over the defaults), and as a checkpoint's stored config uses it (Config::from_json). An
// accepted config must survive both round trips the CLI offers: JSON (checkpoint metadata) and
// YAML (--dump-config, read back with --config).
#include <nlohmann/json.hpp>

#include "core/config.hpp"
#include "fuzz_input.hpp"

using namespace normlab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = normlab_fuzz::write_input(data, size, ".yaml");
  static const nlohmann::json defaults = Config::defaults().to_json();
  Config config = Config::defaults();
  try {
    config.merge_file(path);
  } catch (const UserError& e) {
    normlab_fuzz::check_user_error(e, path);
  }
  // The round trips of a config that differs from the defaults (the others were checked once).
  static bool defaults_checked = false;
  const nlohmann::json j = config.to_json();
  if (j != defaults || !defaults_checked) {
    defaults_checked = true;
    const std::string json_text = j.dump();
    normlab_fuzz::require(
        Config::from_json(nlohmann::json::parse(json_text), "json").to_json() == j,
        "to_json -> from_json round trip");
    const std::string yaml = config.dump_yaml();
    const std::string yaml_path = normlab_fuzz::write_input(
        reinterpret_cast<const uint8_t*>(yaml.data()), yaml.size(), ".dump.yaml");
    Config reread = Config::defaults();
    reread.merge_file(yaml_path);
    normlab_fuzz::require(reread.to_json() == j, "dump_yaml -> merge_file round trip");
  }

  // The same bytes as a checkpoint's JSON config.
  const auto parsed = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_discarded()) {
    try {
      Config::from_json(parsed, path).to_json().dump();
    } catch (const UserError& e) {
      normlab_fuzz::check_user_error(e, path);
    }
  }
  return 0;
}
