// UTF-8 and whitespace helpers shared by the metrics. The reference implementations (sacreBLEU,
// rouge-score) are Python, so "whitespace" here means exactly what Python's str.split() splits
// on, and n-grams of characters are n-grams of Unicode code points.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace normlab::eval {

// Byte offset of the first invalid UTF-8 sequence (overlong forms, surrogates and code points
// above U+10FFFF are invalid), or npos when the text is valid.
std::size_t find_invalid_utf8(std::string_view text);

// Decodes the code point starting at text[i] (text must be valid UTF-8) and advances i past it.
char32_t next_code_point(std::string_view text, std::size_t& i);

// Python's str.isspace() for the characters str.split() splits on.
bool is_python_space(char32_t c);

// Appends the whitespace-separated tokens of `text` (Python str.split()) to `out`, as views
// into `text`.
void split_python(std::string_view text, std::vector<std::string_view>& out);

// Reads one segment per line ('\n'; a trailing '\r' is dropped; a final newline does not start
// an extra segment). Throws UserError("PATH: cannot open") or ("PATH: invalid UTF-8 at byte N").
std::vector<std::string> read_segments(const std::string& path);

}  // namespace normlab::eval
