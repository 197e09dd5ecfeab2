#include "eval/text.hpp"

#include <fstream>
#include <sstream>

#include "core/config.hpp"
#include "core/utf8.hpp"

namespace normlab::eval {

bool is_python_space(char32_t c) {
  // Python's whitespace: Unicode bidirectional classes WS, B, S plus category Zs.
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

void split_python(std::string_view s, std::vector<std::string_view>& out) {
  std::size_t i = 0, start = std::string_view::npos;
  while (i < s.size()) {
    const std::size_t at = i;
    const char32_t c = next_code_point(s, i);
    if (is_python_space(c)) {
      if (start != std::string_view::npos) out.push_back(s.substr(start, at - start));
      start = std::string_view::npos;
    } else if (start == std::string_view::npos) {
      start = at;
    }
  }
  if (start != std::string_view::npos) out.push_back(s.substr(start));
}

std::vector<std::string> read_segments(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(path + ": cannot open");
  std::ostringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  if (const std::size_t bad = find_invalid_utf8(text); bad != std::string_view::npos)
    throw UserError(path + ": invalid UTF-8 at byte " + std::to_string(bad));
  return split_lines(text);
}

}  // namespace normlab::eval
