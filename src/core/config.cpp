#include "core/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "core/files.hpp"
#include "core/message_text.hpp"
#include "core/options.hpp"

namespace normlab {

namespace {

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool parse_long(const std::string& text, long* out) {
  std::string t = trim(text);
  if (!t.empty() && t[0] == '+') t.erase(0, 1);
  if (t.empty()) return false;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), *out);
  return ec == std::errc() && p == t.data() + t.size();
}

bool parse_double(const std::string& text, double* out) {
  std::string t = trim(text);
  if (!t.empty() && t[0] == '+') t.erase(0, 1);
  if (t.empty()) return false;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), *out);
  return ec == std::errc() && p == t.data() + t.size() && std::isfinite(*out);
}

// Shortest text that reads back as the same double (std::to_chars guarantees the round trip),
// with the exponent's padding removed: 1e-05 -> 1e-5.
std::string format_double(double v) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, p);
  const size_t e = s.find('e');
  if (e == std::string::npos) return s;
  std::string mant = s.substr(0, e), exp = s.substr(e + 1);
  std::string sign;
  if (!exp.empty() && (exp[0] == '+' || exp[0] == '-')) {
    if (exp[0] == '-') sign = "-";
    exp.erase(0, 1);
  }
  exp.erase(0, std::min(exp.find_first_not_of('0'), exp.size() - 1));
  return mant + "e" + sign + exp;
}

const char* type_phrase(OptionType t) {
  switch (t) {
    case OptionType::Int:
      return "an integer";
    case OptionType::Float:
      return "a number";
    case OptionType::Bool:
      return "true or false";
    case OptionType::String:
      return "a string";
  }
  return "a value";
}

[[noreturn]] void unknown_option(const std::string& key, const std::string& origin) {
  std::vector<std::string> keys;
  for (const auto& o : all_options()) keys.push_back(o.key);
  const std::string best = did_you_mean(key, keys);
  std::string msg = origin + ": unknown option " + quote(key);  // a YAML key can hold any byte
  if (!best.empty()) msg += " (did you mean '" + best + "'?)";
  throw UserError(msg);
}

// `value` as an error message may show it: on one line (control bytes escaped), and cut short.
std::string shown(const std::string& value) {
  std::string s;
  for (char c : value.substr(0, 80)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      s += buf;
    } else {
      s += c;
    }
  }
  return value.size() > 80 ? s + "..." : s;
}

// The option's range; an integer option also fits in 32 bits, as the model and the trainer
// store them in int.
Range effective_range(const OptionSpec& o) {
  Range r = o.range;
  if (o.type == OptionType::Int) {
    r.lo = std::max(r.lo, static_cast<double>(std::numeric_limits<int32_t>::min()));
    r.hi = std::min(r.hi, static_cast<double>(std::numeric_limits<int32_t>::max()));
  }
  return r;
}

// "> 0", ">= 1", "in [0, 1)": what follows "must be".
std::string range_phrase(const Range& r) {
  const std::string t = r.text();
  return !t.empty() && (t[0] == '[' || t[0] == '(') ? "in " + t : t;
}

const OptionSpec& spec_or_throw(const std::string& key) {
  const OptionSpec* o = find_option(key);
  if (!o) throw std::logic_error("Config: no option '" + key + "' in the vocabulary");
  return *o;
}

// Whether TEXT is valid UTF-8. The config is stored as JSON (checkpoint metadata), and JSON text
// is UTF-8, so the encoder's own check is the one that matters.
bool is_utf8(const std::string& text) {
  try {
    (void)nlohmann::json(text).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

// Validates `value` against the option's type and writes its canonical text; false if invalid.
bool canonicalize(const OptionSpec& o, const std::string& value, std::string* out) {
  switch (o.type) {
    case OptionType::Int: {
      long v;
      if (!parse_long(value, &v)) return false;
      *out = std::to_string(v);
      break;
    }
    case OptionType::Float: {
      double v;
      if (!parse_double(value, &v)) return false;
      *out = format_double(v);
      break;
    }
    case OptionType::Bool: {
      const std::string v = lower(trim(value));
      if (v == "true" || v == "1" || v == "yes")
        *out = "true";
      else if (v == "false" || v == "0" || v == "no")
        *out = "false";
      else
        return false;
      break;
    }
    case OptionType::String:
      *out = value;
      break;
  }
  return true;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

// YAML 1.1 reads these plain scalars as booleans or null; quote them so other tools see strings.
bool yaml_reserved(const std::string& s) {
  static const std::set<std::string> words = {"true", "false", "yes",  "no", "on",  "off",
                                              "y",    "n",     "null", "~",  "nan", ".nan"};
  return words.count(lower(s)) != 0;
}

std::string yaml_scalar(const std::string& s) {
  bool plain = !s.empty() && !yaml_reserved(s) && s[0] != '-' && s[0] != '.';
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || std::strchr("_./+-", c))) plain = false;
  if (plain) return s;
  // A YAML double-quoted scalar takes the same escapes (\\, \n, \t, \r, \xNN), plus \".
  std::string q = "\"";
  for (const char c : printable(s)) {
    if (c == '"') q += '\\';
    q += c;
  }
  return q + "\"";
}

// Word-wraps `text` into "# " comment lines no wider than `width`.
std::string comment_lines(const std::string& text, size_t width) {
  std::istringstream words(text);
  std::string word, line, out;
  while (words >> word) {
    if (!line.empty() && line.size() + 1 + word.size() > width - 2) {
      out += "# " + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) out += "# " + line + "\n";
  return out;
}

}  // namespace

Config Config::defaults() {
  Config c;
  for (const auto& o : all_options()) {
    std::string v;
    // An empty default means "no value" (paths, optional descriptions): stored as "" unchecked.
    if (o.default_value.empty()) {
      c.values_[o.key] = "";
      continue;
    }
    if (!canonicalize(o, o.default_value, &v))
      throw std::logic_error("options.cpp: default of '" + o.key + "' does not match its type");
    double number = 0;
    if ((o.type == OptionType::Int || o.type == OptionType::Float) && parse_double(v, &number) &&
        !o.range.contains(number))
      throw std::logic_error("options.cpp: default of '" + o.key + "' is outside its range");
    c.values_[o.key] = v;
  }
  return c;
}

void Config::set(const std::string& given_key, const std::string& value,
                 const std::string& origin) {
  const std::string& key = current_option_key(given_key);
  const OptionSpec* o = find_option(key);
  if (!o) unknown_option(key, origin);
  std::string v;
  // Options without a default (paths) may be set back to "no value".
  if (value.empty() && o->default_value.empty()) {
    values_[key] = "";
    return;
  }
  if (o->type == OptionType::String && !is_utf8(value))
    throw UserError(origin + ": option '" + key + "' expects UTF-8 text, got " + quote(value));
  if (!canonicalize(*o, value, &v))
    throw UserError(origin + ": option '" + key + "' expects " + type_phrase(o->type) + ", got '" +
                    shown(value) + "'");
  if (!o->choices.empty() && std::find(o->choices.begin(), o->choices.end(), v) == o->choices.end())
    throw UserError(origin + ": option '" + key + "' must be one of " + join(o->choices, ", ") +
                    "; got '" + shown(value) + "'");
  // WHERE is the flag itself, or "FILE: key" for a value from a file.
  const std::string where = origin.rfind("--", 0) == 0 ? origin : origin + ": " + key;
  // No path, block description or name holds a NUL, and C strings would cut it off silently.
  if (v.find('\0') != std::string::npos) throw UserError(where + ": contains a NUL byte");
  if (o->type == OptionType::Int || o->type == OptionType::Float) {
    double number = 0;
    parse_double(v, &number);
    // The declared range is named when it is what the value breaks; else the 32-bit limit.
    const Range& declared = o->range;
    const Range r = declared.contains(number) ? effective_range(*o) : declared;
    if (!r.contains(number))
      throw UserError(where + ": must be " + range_phrase(r) + ", got " + trim(value));
  }
  values_[key] = v;
}

void Config::merge_file(const std::string& path) {
  YAML::Node root = load_yaml_file(path);
  if (root.IsNull()) return;  // an empty file changes nothing
  if (!root.IsMap())
    throw UserError(path + ": expected a mapping of option: value at the top level");
  // Apply to a copy so a failing file leaves this config unchanged.
  Config next = *this;
  std::set<std::string> seen;
  for (const auto& kv : root) {
    const std::string line = "line " + std::to_string(kv.first.Mark().line + 1);
    if (!kv.first.IsScalar()) throw UserError(path + ": " + line + ": option names must be text");
    const std::string key = kv.first.Scalar();
    if (!seen.insert(current_option_key(key)).second)
      throw UserError(path + ": " + line + ": option " + quote(key) + " is set twice");
    const YAML::Node& v = kv.second;
    if (v.IsSequence() || v.IsMap())
      throw UserError(path + ": " + line + ": option " + quote(key) +
                      " expects a single value, got a " + (v.IsMap() ? "mapping" : "list"));
    next.set(key, v.IsScalar() ? v.Scalar() : std::string(), path);
  }
  *this = std::move(next);
}

long Config::get_int(const std::string& key) const {
  const OptionSpec& o = spec_or_throw(key);
  long v;
  if (o.type != OptionType::Int || !parse_long(values_.at(key), &v))
    throw std::logic_error("Config: option '" + key + "' is not an integer");
  return v;
}

double Config::get_float(const std::string& key) const {
  const OptionSpec& o = spec_or_throw(key);
  double v;
  if (o.type != OptionType::Float || !parse_double(values_.at(key), &v))
    throw std::logic_error("Config: option '" + key + "' is not a number");
  return v;
}

const std::string& Config::get_string(const std::string& key) const {
  spec_or_throw(key);
  return values_.at(key);
}

bool Config::get_bool(const std::string& key) const {
  const OptionSpec& o = spec_or_throw(key);
  if (o.type != OptionType::Bool)
    throw std::logic_error("Config: option '" + key + "' is not a bool");
  return values_.at(key) == "true";
}

nlohmann::json Config::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& o : all_options()) {
    const std::string& v = values_.at(o.key);
    if (o.type == OptionType::String)
      j[o.key] = v;
    else if (v.empty())
      j[o.key] = nullptr;
    else if (o.type == OptionType::Int)
      j[o.key] = get_int(o.key);
    else if (o.type == OptionType::Float)
      j[o.key] = get_float(o.key);
    else
      j[o.key] = get_bool(o.key);
  }
  return j;
}

Config Config::from_json(const nlohmann::json& j, const std::string& origin) {
  if (!j.is_object()) throw UserError(origin + ": config is not a JSON object");
  Config c = defaults();
  for (auto it = j.begin(); it != j.end(); ++it) {
    const nlohmann::json& v = it.value();
    std::string text;
    if (v.is_string())
      text = v.get<std::string>();
    else if (v.is_boolean())
      text = v.get<bool>() ? "true" : "false";
    else if (v.is_number_integer())
      text = v.dump();
    else if (v.is_number_float())
      text = format_double(v.get<double>());
    else if (v.is_null())
      text = "";
    else
      throw UserError(origin + ": option '" + it.key() + "' expects a single value, got " +
                      v.dump());
    c.set(it.key(), text, origin);
  }
  return c;
}

std::string Config::dump_yaml() const {
  std::vector<std::string> groups;  // in order of first appearance in options.cpp
  for (const auto& o : all_options())
    if (std::find(groups.begin(), groups.end(), o.group) == groups.end()) groups.push_back(o.group);
  std::string out;
  for (const auto& g : groups) {
    if (!out.empty()) out += "\n";
    out += "# ---- " + g + "\n";
    for (const auto& o : all_options()) {
      if (o.group != g) continue;
      out += "\n" + comment_lines(o.help, 100);
      if (!o.choices.empty()) out += comment_lines("One of: " + join(o.choices, ", ") + ".", 100);
      const std::string& v = values_.at(o.key);
      // Numbers and bools are canonical plain scalars; an unset one is written empty (YAML
      // null), which merge_file reads back as "no value".
      out += o.key + ": " + (o.type == OptionType::String ? yaml_scalar(v) : v) + "\n";
    }
  }
  return out;
}

}  // namespace normlab
