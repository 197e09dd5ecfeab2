// What a line printed for a person needs to know about where it goes: whether the stream is a
// terminal, and how wide that terminal is, so that no line wraps and no control code reaches a
// log file.
#pragma once
#include <cstdio>
#include <string>

namespace normlab {

// Columns of the terminal on `stream`: the window size (ioctl TIOCGWINSZ), else $COLUMNS (a pty
// whose size nobody set reports 0 columns), else 80. 0 when `stream` is not a terminal.
int terminal_columns(std::FILE* stream);

// Display columns of UTF-8 `text` (one per code point; normlab prints no wide characters).
size_t text_columns(const std::string& text);

// `text` cut to at most `columns` display columns (at a code point boundary).
std::string cut_to_columns(const std::string& text, size_t columns);

// `text` broken at spaces into lines of at most `columns` columns, continuation lines indented by
// `indent` spaces; a word longer than a line is cut. Lines are joined by '\n', no final newline.
std::string wrap_to_columns(const std::string& text, size_t columns, size_t indent = 2);

// Prints `line` and a newline on `stream` and flushes it (so that stdout and stderr appear in the
// order written, even through a pipe). On a terminal the line is wrapped to its width.
void print_line(std::FILE* stream, const std::string& line);

}  // namespace normlab
