// The one option vocabulary: every key here is both a config-file key (JSON or YAML) and a
// long CLI flag (--key). It is defined once, in options.cpp, with its documentation and its
// allowed values; docs/options.md is generated from it (`normlab options --markdown`).
#pragma once
#include <limits>
#include <string>
#include <vector>

namespace normlab {

enum class OptionType { Int, Float, String, Bool };

// Allowed values of a numeric option: an interval whose ends are each inclusive or exclusive;
// an infinite end is no bound. Config::set rejects a value outside it.
struct Range {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_inclusive = true, hi_inclusive = true;

  bool bounded() const;
  bool contains(double v) const;
  // "> 0", ">= 1", "<= 5", "[0, 1)", ...; "" when unbounded.
  std::string text() const;
};

// What a table row allows: a numeric range, or a list of choices for a string option.
struct Allowed {
  Range range;
  std::vector<std::string> choices;
};

struct OptionSpec {
  OptionSpec(std::string key, OptionType type, std::string default_value, std::string group,
             Allowed allowed, std::string help);

  std::string key;
  OptionType type;
  std::string default_value;         // as text; "" for no default (e.g. paths)
  std::string group;                 // model | train | data | run | sweep | sanity | grad | ...
  Range range;                       // numeric options: the allowed interval
  std::vector<std::string> choices;  // empty: any value of the type (within range)
  std::string help;                  // the why, and the equation or source where there is one
};

// All options, in documentation order (each group's options together).
const std::vector<OptionSpec>& all_options();
const OptionSpec* find_option(const std::string& key);

// The key an option has now: `key` itself, or the new key of an option renamed after config
// files, run directories and checkpoints were written with its old key ('tokenizer' is
// 'tokenizer_type'), so that those still load. Flags have no former names: a flag has one
// meaning across commands, and '--tokenizer' is the SentencePiece model file of generate and
// translate.
const std::string& current_option_key(const std::string& key);

// The word of `vocabulary` closest to `word` (edit distance; '-' and '_' compare equal) when it
// is close enough to be a likely typo of it, else "". One rule for config keys, flags and
// command names.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& vocabulary);

}  // namespace normlab
