// File helpers of the corpus builders: whole-file reads with one-line errors, the output
// directory, and outputs staged as PATH.tmp.<pid> then renamed, with every temporary removed if
// the build fails part-way.
#pragma once
#include <string>
#include <vector>

namespace normlab {

// Throws UserError("PATH: no such file" / "is a directory..." / "cannot open" / "read error").
std::string read_whole_file(const std::string& path);

// read_whole_file, then throws UserError("PATH: invalid UTF-8 at byte N (REASON)") unless the
// text is valid UTF-8.
std::string read_utf8_file(const std::string& path);

// Regular files DIR/*EXT (e.g. ".u8"), sorted; empty if DIR does not exist.
std::vector<std::string> files_with_extension(const std::string& dir, const std::string& ext);

// Creates DIR and its parents if missing; throws UserError("DIR: cannot create output
// directory...") if it is not a directory afterwards.
void create_output_dir(const std::string& dir);

// Removes the listed files on scope exit (error paths leave no temporaries behind).
struct TempFiles {
  std::vector<std::string> paths;
  ~TempFiles();
};

// Writes PATH.tmp.<pid> (registered in `temps`) and returns its name; the caller renames it
// onto PATH once every output is ready.
std::string stage_file(const std::string& path, const std::string& data, TempFiles& temps);

// Renames a staged file onto PATH; throws UserError("PATH: cannot rename temporary file: ...").
void rename_staged(const std::string& staged, const std::string& path);

// stage_file, then rename onto PATH at once.
void write_text_atomic(const std::string& path, const std::string& data, TempFiles& temps);

}  // namespace normlab
