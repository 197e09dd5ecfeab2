// Line fitting for the terminal (core/terminal.hpp): nothing printed for a person is wider than
// the terminal, and wrapping loses no character.
#include <gtest/gtest.h>

#include <sstream>

#include "core/terminal.hpp"

namespace normlab {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

// The words of `text`, in order, whatever the line breaks and indentation.
std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

TEST(Terminal, ShortLineIsUnchanged) {
  EXPECT_EQ(wrap_to_columns("  run        run1", 40), "  run        run1");
}

TEST(Terminal, WrapsAtSpacesKeepingIndentationAndEveryWord) {
  const std::string text = "  blocks     2 x attn:n|da mlp:n|da, final norm, dt 1, init xavier";
  const std::string wrapped = wrap_to_columns(text, 30);
  EXPECT_EQ(wrapped,
            "  blocks     2 x attn:n|da\n"
            "    mlp:n|da, final norm, dt\n"
            "    1, init xavier");
  for (const std::string& line : lines_of(wrapped)) EXPECT_LE(text_columns(line), 30u) << line;
  EXPECT_EQ(words_of(wrapped), words_of(text));
}

TEST(Terminal, CutsAWordWiderThanTheLine) {
  const std::string wrapped = wrap_to_columns("run /a/very/long/path/of/a/run/directory", 12);
  for (const std::string& line : lines_of(wrapped)) EXPECT_LE(text_columns(line), 12u) << line;
  std::string joined;
  for (const std::string& w : words_of(wrapped)) joined += w;
  EXPECT_EQ(joined, "run/a/very/long/path/of/a/run/directory");
}

TEST(Terminal, CountsCodePointsNotBytes) {
  EXPECT_EQ(text_columns("Größe"), 5u);
  EXPECT_EQ(cut_to_columns("Größe", 3), "Grö");
  for (const std::string& line : lines_of(wrap_to_columns("Übergrößenträger äöü", 8)))
    EXPECT_LE(text_columns(line), 8u) << line;
}

TEST(Terminal, NotATerminalHasNoWidth) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(terminal_columns(f), 0);
  std::fclose(f);
}

}  // namespace
}  // namespace normlab
