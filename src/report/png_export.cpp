#include "report/png_export.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/config.hpp"

namespace normlab::report {
namespace fs = std::filesystem;

namespace {

bool is_executable(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

// Single-quoted for /bin/sh: ' becomes '\''.
std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string last_line(const std::string& text) {
  size_t end = text.find_last_not_of("\r\n \t");
  if (end == std::string::npos) return "";
  size_t begin = text.rfind('\n', end);
  begin = begin == std::string::npos ? 0 : begin + 1;
  return text.substr(begin, end - begin + 1);
}

// The value of attribute `name` on the first element carrying it, or "" (the DOM serialiser
// escapes '"' inside values as &quot;, so the value ends at the next '"').
std::string attribute(const std::string& dom, const std::string& name) {
  const std::string key = " " + name + "=\"";
  size_t at = dom.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  return dom.substr(at, dom.find('"', at) - at);
}

// A temporary directory removed when this goes out of scope.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "normlab-report-XXXXXX").string();
    if (!::mkdtemp(templ.data())) throw UserError(templ + ": cannot create a temporary directory");
    path = templ;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace

std::string find_chromium() {
  if (const char* env = std::getenv("NORMLAB_CHROMIUM"); env && *env)
    return is_executable(env) ? std::string(env) : std::string();
  const char* path_env = std::getenv("PATH");
  std::string path = path_env ? path_env : "/usr/bin:/bin";
  for (const char* name :
       {"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}) {
    std::istringstream dirs(path);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
      if (dir.empty()) continue;
      fs::path candidate = fs::path(dir) / name;
      if (is_executable(candidate)) return candidate.string();
    }
  }
  return "";
}

std::string base64_decode(const std::string& text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  bool padding = false;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      padding = true;
      continue;
    }
    const int v = value(c);
    if (v < 0 || padding) throw std::invalid_argument("invalid base64");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> extract_png_payloads(const std::string& dom) {
  std::vector<std::pair<std::string, std::string>> out;
  const std::string marker = "class=\"png-out\"";
  const std::string prefix = "data:image/png;base64,";
  for (size_t at = dom.find(marker); at != std::string::npos; at = dom.find(marker, at + 1)) {
    const size_t tag_end = dom.find('>', at);
    if (tag_end == std::string::npos) break;
    const std::string tag = dom.substr(at, tag_end - at);
    const std::string name = attribute(" " + tag, "data-name");
    const size_t close = dom.find("</pre>", tag_end);
    if (close == std::string::npos) break;
    std::string body = dom.substr(tag_end + 1, close - tag_end - 1);
    if (body.rfind(prefix, 0) != 0) continue;
    out.emplace_back(name, body.substr(prefix.size()));
  }
  return out;
}

std::vector<std::string> export_pngs(const std::string& png_page_html, const std::string& png_dir) {
  const std::string chromium = find_chromium();
  if (chromium.empty())
    throw UserError(png_dir +
                    ": cannot export PNGs: chromium not found (install the Debian package "
                    "'chromium' or set NORMLAB_CHROMIUM)");
  std::error_code ec;
  fs::create_directories(png_dir, ec);
  if (ec || !fs::is_directory(png_dir))
    throw UserError(png_dir + ": cannot create directory (" + ec.message() + ")");

  TempDir tmp;
  const fs::path page = tmp.path / "report-png.html";
  const fs::path dom_file = tmp.path / "dom.html";
  const fs::path log_file = tmp.path / "chromium.log";
  {
    std::ofstream out(page, std::ios::binary);
    out << png_page_html;
    if (!out) throw UserError(page.string() + ": cannot write");
  }
  // A fresh profile and no background services: the export must not touch the network or the
  // user's browser state. `timeout` guards against a hung browser.
  std::string cmd;
  if (is_executable("/usr/bin/timeout")) cmd += "/usr/bin/timeout 180 ";
  cmd += shell_quote(chromium) +
         " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
         " --disable-background-networking --disable-component-update --disable-sync"
         " --disable-extensions --disable-dev-shm-usage --hide-scrollbars --mute-audio"
         " --window-size=1300,1000 --user-data-dir=" +
         shell_quote((tmp.path / "profile").string()) + " --dump-dom " +
         shell_quote("file://" + page.string()) + " >" + shell_quote(dom_file.string()) + " 2>" +
         shell_quote(log_file.string()) + " </dev/null";
  const int status = std::system(cmd.c_str());
  const std::string dom = read_file(dom_file);
  if (attribute(dom, "data-charts-ready").empty()) {  // the script text names it too
    std::string why = last_line(read_file(log_file));
    throw UserError(png_dir + ": chromium (" + chromium + ") did not render the report (exit " +
                    std::to_string(status) + (why.empty() ? "" : "; " + why) + ")");
  }
  if (std::string err = attribute(dom, "data-error"); !err.empty())
    throw UserError(png_dir + ": the report page failed in chromium: " + err);

  std::vector<std::string> written;
  for (const auto& [name, payload] : extract_png_payloads(dom)) {
    bool safe = !name.empty();
    for (char c : name)
      safe = safe && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
    if (!safe) continue;
    std::string bytes;
    try {
      bytes = base64_decode(payload);
    } catch (const std::invalid_argument&) {
      throw UserError(png_dir + ": chromium returned an invalid image for " + name);
    }
    if (bytes.size() < 8 || bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0)
      throw UserError(png_dir + ": chromium returned a non-PNG image for " + name);
    const fs::path file = fs::path(png_dir) / (name + ".png");
    std::ofstream out(file, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw UserError(file.string() + ": cannot write");
    written.push_back(file.string());
  }
  if (written.empty()) throw UserError(png_dir + ": the report page exported no chart image");
  return written;
}

}  // namespace normlab::report
