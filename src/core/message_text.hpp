// Text from a user's file inside an error message. Errors are one line (`normlab: error: WHERE:
// problem`), but a tensor name, a config value or a parser's complaint can hold any byte: a
// newline would split the message, a NUL would cut it short, an escape sequence would drive the
// terminal. These helpers show such bytes as C-style escapes instead.
#pragma once
#include <cstdio>
#include <string>
#include <string_view>

namespace normlab {

// TEXT with every control character (below 0x20, and 0x7f) written as \n, \t, \r or \xNN, and a
// backslash as \\; other bytes (UTF-8 included) unchanged.
inline std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

// 'TEXT', made printable: how messages quote a name or value taken from the input.
inline std::string quote(std::string_view text) {
  return "'" + printable(text) + "'";
}

}  // namespace normlab
