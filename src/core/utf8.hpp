// UTF-8 text as the corpus builders (data/) and the metrics (eval/) read it: one validator, one
// decoder, and the split of a text file into lines.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace normlab {

// Byte offset of the first invalid UTF-8 sequence in `text` (stray continuation byte, overlong
// form, UTF-16 surrogate, code point above U+10FFFF, sequence cut short), or npos if the text is
// valid. `reason`, if given, receives a short static description of the problem.
std::size_t find_invalid_utf8(std::string_view text, const char** reason = nullptr);

// Decodes the code point starting at text[i] (text must be valid UTF-8) and advances i past it.
char32_t next_code_point(std::string_view text, std::size_t& i);

// Appends the UTF-8 encoding of code point `c` (at most U+10FFFF, not a surrogate) to `out`.
void append_code_point(std::string& out, char32_t c);

// Number of code points in valid UTF-8 `text` (its bytes that are not continuation bytes).
std::size_t count_code_points(std::string_view text);

// The lines of a text: split at '\n', a '\r' ending a line dropped; a final newline does not
// start another line, so "" has no lines and "a\n" one.
std::vector<std::string> split_lines(std::string_view text);

}  // namespace normlab
