#include "data/staged_files.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/config.hpp"
#include "core/utf8.hpp"

namespace normlab {

namespace fs = std::filesystem;

std::string read_whole_file(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw UserError(path + ": no such file");
  if (fs::is_directory(path, ec)) throw UserError(path + ": is a directory, expected a text file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw UserError(path + ": read error");
  return std::move(ss).str();
}

std::string read_utf8_file(const std::string& path) {
  std::string text = read_whole_file(path);
  const char* why = "";
  if (size_t bad = find_invalid_utf8(text, &why); bad != std::string_view::npos)
    throw UserError(path + ": invalid UTF-8 at byte " + std::to_string(bad) + " (" + why + ")");
  return text;
}

std::vector<std::string> files_with_extension(const std::string& dir, const std::string& ext) {
  std::vector<std::string> files;
  std::error_code ec;
  if (fs::is_directory(dir, ec)) {
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().extension() == ext && fs::is_regular_file(e.path(), ec))
        files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

void create_output_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw UserError(dir + ": cannot create output directory" +
                    (ec ? ": " + ec.message() : std::string()));
}

TempFiles::~TempFiles() {
  std::error_code ec;
  for (const auto& p : paths) fs::remove(p, ec);
}

std::string stage_file(const std::string& path, const std::string& data, TempFiles& temps) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  temps.paths.push_back(tmp);
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  if (!out) throw UserError(path + ": cannot create " + tmp);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.flush();
  if (!out) throw UserError(path + ": write failed (disk full?)");
  return tmp;
}

void rename_staged(const std::string& staged, const std::string& path) {
  std::error_code ec;
  fs::rename(staged, path, ec);
  if (ec) throw UserError(path + ": cannot rename temporary file: " + ec.message());
}

void write_text_atomic(const std::string& path, const std::string& data, TempFiles& temps) {
  rename_staged(stage_file(path, data, temps), path);
}

}  // namespace normlab
