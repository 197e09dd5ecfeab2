#include "data/gettext_text_rules.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace normlab {

namespace {

bool is_ascii_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// A letter or digit for accelerator purposes: ASCII alphanumerics or the lead byte of any
// non-ASCII UTF-8 sequence (German accelerators sit on umlauts too: "Ö_ffnen").
bool is_word_start(unsigned char c) {
  return is_ascii_alnum(c) || c >= 0xC0;
}

struct Directive {
  size_t start, length;
  std::string key;  // what the multiset compares
};

// Scans printf ("%[n$][flags][width][.prec][len]conv"), Python "%(name)...conv" and brace
// ("{field[!c][:spec]}") directives, left to right, never overlapping.
std::vector<Directive> scan_directives(std::string_view t) {
  static constexpr std::string_view kConversions = "diouxXeEfFgGaAcsSpnCm";
  std::vector<Directive> out;
  const size_t n = t.size();
  size_t i = 0;
  auto digits = [&](size_t j) {
    while (j < n && t[j] >= '0' && t[j] <= '9') ++j;
    return j;
  };
  while (i < n) {
    const char c = t[i];
    if (c == '%') {
      if (i + 1 < n && t[i + 1] == '%') {
        i += 2;
        continue;
      }
      size_t j = i + 1;
      std::string key = "%";
      if (j < n && t[j] == '(') {  // Python named
        const size_t close = t.find(')', j);
        if (close == std::string_view::npos) {
          ++i;
          continue;
        }
        key.append(t.substr(j, close - j + 1));
        j = close + 1;
      } else if (size_t d = digits(j); d > j && d < n && t[d] == '$') {
        j = d + 1;  // positional argument: translators reorder, so it does not count
      }
      const size_t spec_start = j;
      // The space flag is not accepted: "50 % der" (German spacing) would read as "% d".
      while (j < n && std::string_view("-+#0'I").find(t[j]) != std::string_view::npos) ++j;
      if (j < n && t[j] == '*')
        ++j;
      else
        j = digits(j);
      if (j < n && t[j] == '.') {
        ++j;
        if (j < n && t[j] == '*')
          ++j;
        else
          j = digits(j);
      }
      while (j < n && std::string_view("hlLqjzZt").find(t[j]) != std::string_view::npos) ++j;
      if (j < n && kConversions.find(t[j]) != std::string_view::npos) {
        key.append(t.substr(spec_start, j + 1 - spec_start));
        out.push_back({i, j + 1 - i, std::move(key)});
        i = j + 1;
      } else {
        ++i;  // "100%" or "50 % der": plain text
      }
    } else if (c == '{') {
      if (i + 1 < n && t[i + 1] == '{') {
        i += 2;
        continue;
      }
      size_t j = i + 1;
      while (j < n && (is_ascii_alnum(static_cast<unsigned char>(t[j])) || t[j] == '_' ||
                       t[j] == '.' || t[j] == '[' || t[j] == ']'))
        ++j;
      if (j + 1 < n && t[j] == '!') j += 2;
      if (j < n && t[j] == ':') {
        while (j < n && t[j] != '}' && t[j] != '{') ++j;
      }
      if (j < n && t[j] == '}') {
        out.push_back({i, j + 1 - i, std::string(t.substr(i, j + 1 - i))});
        i = j + 1;
      } else {
        ++i;
      }
    } else if (c == '}' && i + 1 < n && t[i + 1] == '}') {
      i += 2;
    } else {
      ++i;
    }
  }
  return out;
}

// Tag names of HTML and Pango markup; anything else in angle brackets is text ("<FILE>").
bool is_markup_name(std::string_view name) {
  static constexpr std::array<std::string_view, 46> kNames = {
      "a",   "abbr",  "b",     "big",  "blockquote", "body",   "br",     "center", "cite",  "code",
      "div", "em",    "font",  "h1",   "h2",         "h3",     "h4",     "h5",     "h6",    "head",
      "hr",  "html",  "i",     "img",  "kbd",        "li",     "markup", "ol",     "p",     "pre",
      "q",   "s",     "small", "span", "strike",     "strong", "sub",    "sup",    "table", "td",
      "th",  "title", "tr",    "tt",   "u",          "ul"};
  return std::find(kNames.begin(), kNames.end(), name) != kNames.end();
}

}  // namespace

std::string strip_accelerator(std::string_view text) {
  std::string out(text);
  for (const char marker : {'_', '&'}) {
    size_t count = 0, at = 0;
    for (size_t i = 0; i + 1 < out.size(); ++i) {
      if (out[i] != marker) continue;
      if (i > 0 && out[i - 1] == marker) continue;
      if (!is_word_start(static_cast<unsigned char>(out[i + 1]))) continue;
      if (marker == '&') {  // an entity "&amp;" / "&#38;" is not an accelerator
        size_t j = i + 1;
        while (j < out.size() &&
               (is_ascii_alnum(static_cast<unsigned char>(out[j])) || out[j] == '#'))
          ++j;
        if (j < out.size() && out[j] == ';') continue;
      }
      ++count;
      at = i;
    }
    if (count == 1) out.erase(at, 1);
  }
  return out;
}

std::vector<std::string> format_directives(std::string_view text) {
  std::vector<std::string> keys;
  for (auto& d : scan_directives(text)) keys.push_back(std::move(d.key));
  std::sort(keys.begin(), keys.end());
  return keys;
}

std::string replace_directives(std::string_view text, std::string_view placeholder) {
  std::string out;
  size_t pos = 0;
  for (const auto& d : scan_directives(text)) {
    out.append(text.substr(pos, d.start - pos));
    out.append(placeholder);
    pos = d.start + d.length;
  }
  out.append(text.substr(pos));
  return out;
}

std::vector<std::string> markup_tags(std::string_view t) {
  std::vector<std::string> tags;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] != '<') continue;
    size_t j = i + 1;
    const bool close = j < t.size() && t[j] == '/';
    if (close) ++j;
    const size_t name_start = j;
    while (j < t.size() && is_ascii_alnum(static_cast<unsigned char>(t[j]))) ++j;
    std::string name(t.substr(name_start, j - name_start));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name.empty() || !is_markup_name(name)) continue;
    const size_t end = t.find('>', j);
    if (end == std::string_view::npos) continue;
    if (j != end && t[j] != ' ' && t[j] != '/') continue;  // "<bold>" is not "<b>"
    const bool self_close = t[end - 1] == '/';
    tags.push_back((close ? "/" : "") + name + (self_close ? "/" : ""));
  }
  std::sort(tags.begin(), tags.end());
  return tags;
}

}  // namespace normlab
