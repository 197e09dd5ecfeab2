// Small file helpers shared by the config, the trainer and sweeps, with one-line errors that
// name the file.
#pragma once
#include <yaml-cpp/yaml.h>

#include <string>

namespace normlab {

// Writes PATH.tmp, then renames it onto PATH; on failure removes the temporary file and throws
// UserError("PATH: cannot write").
void write_text_atomic(const std::string& path, const std::string& text);
// Parses a YAML (or JSON) file; UserError("PATH: line L: ...") on a syntax error.
YAML::Node load_yaml_file(const std::string& path);

}  // namespace normlab
