// Whitespace and segment-file helpers shared by the metrics (UTF-8 itself: core/utf8.hpp). The
// reference implementations (sacreBLEU, rouge-score) are Python, so "whitespace" here means
// exactly what Python's str.split() splits on, and n-grams of characters are n-grams of Unicode
// code points.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace normlab::eval {

// Python's str.isspace() for the characters str.split() splits on.
bool is_python_space(char32_t c);

// Appends the whitespace-separated tokens of `text` (Python str.split()) to `out`, as views
// into `text`.
void split_python(std::string_view text, std::vector<std::string_view>& out);

// Reads one segment per line ('\n'; a trailing '\r' is dropped; a final newline does not start
// an extra segment). Throws UserError("PATH: cannot open") or ("PATH: invalid UTF-8 at byte N").
std::vector<std::string> read_segments(const std::string& path);

}  // namespace normlab::eval
