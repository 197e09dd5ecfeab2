// The one option vocabulary: every key here is both a config-file key (JSON or YAML) and a
// long CLI flag (--key). It is defined once, in options.cpp, with its documentation;
// docs/options.md is generated from it (`normlab options --markdown`).
#pragma once
#include <string>
#include <vector>

namespace normlab {

enum class OptionType { Int, Float, String, Bool };

struct OptionSpec {
  std::string key;
  OptionType type;
  std::string default_value;         // as text; "" for no default (e.g. paths)
  std::string group;                 // model | train | data | generate | translate | run
  std::string help;                  // the why, and the equation or source where there is one
  std::vector<std::string> choices;  // empty: any value of the type
};

// All options, in documentation order.
const std::vector<OptionSpec>& all_options();
const OptionSpec* find_option(const std::string& key);

}  // namespace normlab
