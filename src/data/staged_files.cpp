#include "data/staged_files.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/config.hpp"

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

void write_text_atomic(const std::string& path, const std::string& data, TempFiles& temps) {
  const std::string tmp = stage_file(path, data, temps);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw UserError(path + ": cannot rename temporary file: " + ec.message());
}

}  // namespace normlab
