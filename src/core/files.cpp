#include "core/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/config.hpp"
#include "core/message_text.hpp"

namespace normlab {

namespace fs = std::filesystem;

void write_text_atomic(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw UserError(path + ": cannot write: " + std::strerror(errno));
  const char* p = text.data();
  size_t left = text.size();
  bool ok = true;
  while (ok && left > 0) {
    const ssize_t w = ::write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    ok = w > 0;
    if (ok) p += w, left -= static_cast<size_t>(w);
  }
  ok = ok && ::fsync(fd) == 0;
  const int error = errno;
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int why = ok ? errno : error;
    ::unlink(tmp.c_str());
    throw UserError(path + ": cannot write: " + std::strerror(why));
  }
  sync_directory(fs::path(path).parent_path());
}

void copy_file_atomic(const fs::path& from, const fs::path& to) {
  const fs::path tmp = to.string() + ".tmp";
  std::error_code ec;
  fs::copy_file(from, tmp, fs::copy_options::overwrite_existing, ec);
  if (!ec) fs::rename(tmp, to, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw UserError(to.string() + ": cannot write: " + ec.message());
  }
}

void sync_directory(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

bool is_temporary_file_name(const std::string& name) {
  const size_t t = name.rfind(".tmp");
  if (t == std::string::npos || t == 0) return false;
  const std::string rest = name.substr(t + 4);
  if (rest.empty()) return true;
  return rest.size() > 1 && rest[0] == '.' && std::all_of(rest.begin() + 1, rest.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c));
         });
}

void remove_temporary_files(const fs::path& dir) {
  std::error_code ec;
  std::vector<fs::path> stale;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_regular_file(ec) && is_temporary_file_name(entry.path().filename().string()))
      stale.push_back(entry.path());
  for (const auto& p : stale) fs::remove(p, ec);
}

YAML::Node load_yaml_file(const std::string& path) {
  // A directory opens as an empty stream, which would read as an empty (valid) config.
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw UserError(path + ": is a directory, not a config file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(path + ": cannot open: " + std::strerror(errno));
  std::stringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw UserError(path + ": cannot read: " + std::strerror(errno));
  try {
    return YAML::Load(buf.str());
  } catch (const YAML::ParserException& e) {
    // yaml-cpp's messages quote the offending input (any byte): keep them on one line.
    throw UserError(path + ": line " + std::to_string(e.mark.line + 1) + ": " + printable(e.msg));
  } catch (const YAML::Exception& e) {
    throw UserError(path + ": " + printable(e.what()));
  }
}

}  // namespace normlab
