#include "eval/tokenize_13a.hpp"

#include <vector>

#include "eval/text.hpp"

namespace normlab::eval {

namespace {

// Python str.replace: one left-to-right pass of non-overlapping occurrences.
std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (true) {
    const std::size_t j = s.find(from, i);
    if (j == std::string_view::npos) break;
    out.append(s.substr(i, j - i)).append(to);
    i = j + from.size();
  }
  out.append(s.substr(i));
  return out;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_period_comma(char c) {
  return c == '.' || c == ',';
}

bool is_13a_symbol(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return (c >= 0x7B && c <= 0x7E) || (c >= 0x5B && c <= 0x60) || (c >= 0x20 && c <= 0x26) ||
         (c >= 0x28 && c <= 0x2B) || (c >= 0x3A && c <= 0x40) || c == 0x2F;
}

// One re.sub pass of a two-character pattern. Working on UTF-8 bytes gives the same result as
// Python on code points: every special character is ASCII, "non-digit" is true of every byte of a
// multi-byte character, and a continuation byte can never start a match.
template <class Match, class Emit>
std::string pair_pass(const std::string& s, Match match, Emit emit) {
  std::string out;
  out.reserve(s.size() + s.size() / 2);
  std::size_t i = 0;
  while (i < s.size()) {
    if (i + 1 < s.size() && match(s[i], s[i + 1])) {
      emit(out, s[i], s[i + 1]);
      i += 2;
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

}  // namespace

std::string tokenize_13a(std::string_view line) {
  std::string s = replace_all(line, "<skipped>", "");
  s = replace_all(s, "-\n", "");
  s = replace_all(s, "\n", " ");
  if (s.find('&') != std::string::npos) {
    s = replace_all(s, "&quot;", "\"");
    s = replace_all(s, "&amp;", "&");
    s = replace_all(s, "&lt;", "<");
    s = replace_all(s, "&gt;", ">");
  }
  std::string t;
  t.reserve(3 * s.size() + 2);
  t.push_back(' ');
  for (char c : s) {
    if (is_13a_symbol(c)) {
      t.push_back(' ');
      t.push_back(c);
      t.push_back(' ');
    } else {
      t.push_back(c);
    }
  }
  t.push_back(' ');
  t = pair_pass(
      t, [](char a, char b) { return !is_digit(a) && is_period_comma(b); },
      [](std::string& o, char a, char b) {
        o.append({a, ' ', b, ' '});
      });
  t = pair_pass(
      t, [](char a, char b) { return is_period_comma(a) && !is_digit(b); },
      [](std::string& o, char a, char b) {
        o.append({' ', a, ' ', b});
      });
  t = pair_pass(
      t, [](char a, char b) { return is_digit(a) && b == '-'; },
      [](std::string& o, char a, char b) {
        o.append({a, ' ', b, ' '});
      });
  std::vector<std::string_view> tokens;
  split_python(t, tokens);
  std::string out;
  out.reserve(t.size());
  for (const auto& tok : tokens) {
    if (!out.empty()) out.push_back(' ');
    out.append(tok);
  }
  return out;
}

}  // namespace normlab::eval
