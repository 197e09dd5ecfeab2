#include "core/terminal.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "core/utf8.hpp"

namespace normlab {

int terminal_columns(std::FILE* stream) {
  const int fd = fileno(stream);
  if (fd < 0 || !isatty(fd)) return 0;
  winsize ws{};
  if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* env = std::getenv("COLUMNS")) {
    const int n = std::atoi(env);
    if (n > 0) return n;
  }
  return 80;
}

size_t text_columns(const std::string& text) {
  return count_code_points(text);
}

std::string cut_to_columns(const std::string& text, size_t columns) {
  size_t seen = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool starts_code_point = (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
    if (starts_code_point && seen++ == columns) return text.substr(0, i);
  }
  return text;
}

std::string wrap_to_columns(const std::string& text, size_t columns, size_t indent) {
  if (columns == 0 || text_columns(text) <= columns) return text;
  // The text's own leading spaces start the first line; continuation lines go `indent` further.
  const size_t lead = std::min(text.find_first_not_of(' '), text.size());
  const size_t continuation = lead + indent < columns ? lead + indent : 0;
  std::string out, line = text.substr(0, lead);
  bool has_word = false;  // `line` holds more than its indentation
  auto break_line = [&] {
    out += line + '\n';
    line = std::string(continuation, ' ');
    has_word = false;
  };
  size_t pos = lead;
  while (pos < text.size()) {
    const size_t space = std::min(text.find(' ', pos), text.size());
    std::string word = text.substr(pos, space - pos);
    pos = space + 1;
    if (!has_word && word.empty()) continue;  // no run of spaces at the start of a line
    if (has_word && text_columns(line) + 1 + text_columns(word) > columns) break_line();
    if (has_word) line += ' ';
    // A word wider than a whole line is cut into pieces that fit.
    while (text_columns(line) + text_columns(word) > columns) {
      const std::string piece = cut_to_columns(word, columns - text_columns(line));
      line += piece;
      word.erase(0, piece.size());
      break_line();
    }
    line += word;
    has_word = has_word || !word.empty();
  }
  return has_word ? out + line : out.substr(0, out.empty() ? 0 : out.size() - 1);
}

void print_line(std::FILE* stream, const std::string& line) {
  const int columns = terminal_columns(stream);
  const std::string text = columns > 0 ? wrap_to_columns(line, static_cast<size_t>(columns)) : line;
  // One write with its newline: stderr is unbuffered, and a reader of several processes' lines
  // (mpirun --tag-output, a log collector) must get whole lines.
  std::fputs((text + "\n").c_str(), stream);
  std::fflush(stream);
}

}  // namespace normlab
