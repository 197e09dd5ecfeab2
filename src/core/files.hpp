// Small file helpers shared by the config, the trainer and sweeps, with one-line errors that
// name the file.
#pragma once
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <string>

namespace normlab {

// Writes PATH.tmp, fsyncs it, renames it onto PATH and fsyncs the directory: a kill or a power
// loss leaves either the old file or the new one. On failure removes the temporary file and
// throws UserError("PATH: cannot write: WHY").
void write_text_atomic(const std::string& path, const std::string& text);
// Copies FROM to TO.tmp, then renames it onto TO; UserError("TO: cannot write: WHY") on failure.
void copy_file_atomic(const std::filesystem::path& from, const std::filesystem::path& to);
// Makes the renames and removals already done in `dir` durable (fsync of the directory);
// failures are ignored (the data itself is already written).
void sync_directory(const std::filesystem::path& dir);
// Whether `name` is a temporary file of an atomic writer: NAME.tmp (write_text_atomic) or
// NAME.tmp.PID (write_safetensors).
bool is_temporary_file_name(const std::string& name);
// Removes the temporary files directly in `dir` (left by killed writers; call only when no
// writer can be running there).
void remove_temporary_files(const std::filesystem::path& dir);
// Parses a YAML (or JSON) file; UserError("PATH: line L: ...") on a syntax error.
YAML::Node load_yaml_file(const std::string& path);

}  // namespace normlab
