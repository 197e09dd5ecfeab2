// File helpers of the corpus builders: whole-file reads with one-line errors, and outputs staged
// as PATH.tmp.<pid> then renamed, with every temporary removed if the build fails part-way.
#pragma once
#include <string>
#include <vector>

namespace normlab {

// Throws UserError("PATH: no such file" / "is a directory..." / "cannot open" / "read error").
std::string read_whole_file(const std::string& path);

// Regular files DIR/*EXT (e.g. ".u8"), sorted; empty if DIR does not exist.
std::vector<std::string> files_with_extension(const std::string& dir, const std::string& ext);

// Removes the listed files on scope exit (error paths leave no temporaries behind).
struct TempFiles {
  std::vector<std::string> paths;
  ~TempFiles();
};

// Writes PATH.tmp.<pid> (registered in `temps`) and returns its name; the caller renames it
// onto PATH once every output is ready.
std::string stage_file(const std::string& path, const std::string& data, TempFiles& temps);

// stage_file, then rename onto PATH at once.
void write_text_atomic(const std::string& path, const std::string& data, TempFiles& temps);

}  // namespace normlab
