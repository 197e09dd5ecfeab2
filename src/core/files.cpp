#include "core/files.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/config.hpp"

namespace normlab {

namespace fs = std::filesystem;

void write_text_atomic(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  bool written;
  {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
    out.flush();
    written = static_cast<bool>(out);
  }
  std::error_code ec;
  if (written) fs::rename(tmp, path, ec);
  if (!written || ec) {
    fs::remove(tmp, ec);
    throw UserError(path + ": cannot write");
  }
}

YAML::Node load_yaml_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(path + ": cannot open: " + std::strerror(errno));
  std::stringstream buf;
  buf << in.rdbuf();
  try {
    return YAML::Load(buf.str());
  } catch (const YAML::ParserException& e) {
    throw UserError(path + ": line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  } catch (const YAML::Exception& e) {
    throw UserError(path + ": " + e.what());
  }
}

}  // namespace normlab
