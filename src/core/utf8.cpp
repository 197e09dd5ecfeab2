#include "core/utf8.hpp"

namespace normlab {

std::size_t find_invalid_utf8(std::string_view text, const char** reason) {
  // Well-formed sequences per the Unicode Standard, Table 3-7: the lead byte fixes the length and
  // the allowed range of the second byte (which excludes overlong forms, surrogates D800..DFFF and
  // code points above 10FFFF); later bytes are 80..BF.
  auto fail = [&](size_t at, const char* why) {
    if (reason) *reason = why;
    return at;
  };
  const size_t n = text.size();
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    int len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0x80 && c <= 0xBF) return fail(i, "unexpected continuation byte");
    if (c == 0xC0 || c == 0xC1) return fail(i, "overlong encoding");
    if (c <= 0xDF) {
      len = 2;
    } else if (c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return fail(i, "byte 0xF5..0xFF never appears in UTF-8");
    }
    if (i + 1 >= n) return fail(i, "sequence truncated at end of file");
    const unsigned char c1 = s[i + 1];
    if (c1 < lo || c1 > hi) {
      if (c1 >= 0x80 && c1 <= 0xBF) {
        if (c == 0xED) return fail(i, "UTF-16 surrogate");
        if (c == 0xF4) return fail(i, "code point above U+10FFFF");
        return fail(i, "overlong encoding");
      }
      return fail(i, "invalid continuation byte");
    }
    for (int k = 2; k < len; ++k) {
      if (i + static_cast<size_t>(k) >= n) return fail(i, "sequence truncated at end of file");
      const unsigned char ck = s[i + static_cast<size_t>(k)];
      if (ck < 0x80 || ck > 0xBF) return fail(i, "invalid continuation byte");
    }
    i += static_cast<size_t>(len);
  }
  return std::string_view::npos;
}

char32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
  char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (std::size_t k = 1; k < len; ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += len;
  return cp;
}

void append_code_point(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

std::size_t count_code_points(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.emplace_back(line);
    pos = nl + 1;
  }
  return lines;
}

}  // namespace normlab
