#include "data/near_duplicate_key.hpp"

#include "core/utf8.hpp"

namespace normlab {

namespace {

bool is_punctuation_or_symbol(char32_t c) {
  if (c < 0x80)
    return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
  return c < 0xC0 || c == 0xD7 || c == 0xF7 || (c >= 0x2000 && c <= 0x2BFF) ||
         (c >= 0x3000 && c <= 0x303F) || (c >= 0xFE10 && c <= 0xFE6F) ||
         (c >= 0xFF01 && c <= 0xFF20 && !(c >= 0xFF10 && c <= 0xFF19)) ||
         (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65) ||
         (c >= 0xFFF0 && c <= 0xFFFF) || (c >= 0x1F000 && c <= 0x1FAFF);
}

// Simple lowercase mapping of the scripts a UI catalog mostly uses (header comment); other code
// points are returned unchanged.
char32_t fold_case(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 0x20;
  if (c >= 0xFF21 && c <= 0xFF3A) return c - 0xFF21 + 'a';  // fullwidth A-Z
  if (c >= 0xFF41 && c <= 0xFF5A) return c - 0xFF41 + 'a';  // fullwidth a-z
  if (c >= 0xFF10 && c <= 0xFF19) return c - 0xFF10 + '0';  // fullwidth digits
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 0x20;
  if (c == 0x178) return 0xFF;
  // Latin Extended-A: upper case is even in U+0100-U+0137 and U+014A-U+0177, odd in
  // U+0139-U+0148 and U+0179-U+017E; the lower case follows it.
  if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) return c | 1;
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c + 1 : c;
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 0x20;  // Greek
  if (c >= 0x410 && c <= 0x42F) return c + 0x20;                // Cyrillic А-Я
  if (c >= 0x400 && c <= 0x40F) return c + 0x50;                // Cyrillic Ѐ-Џ
  return c;
}

}  // namespace

std::string near_duplicate_key(std::string_view text) {
  std::string key;
  key.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const char32_t c = next_code_point(text, i);
    if (!is_punctuation_or_symbol(c)) append_code_point(key, fold_case(c));
  }
  return key;
}

}  // namespace normlab
