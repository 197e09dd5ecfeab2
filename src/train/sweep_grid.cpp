#include "train/sweep_grid.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <set>

#include "core/options.hpp"
#include "model/block_description.hpp"

namespace normlab {

namespace fs = std::filesystem;

namespace {

// Shortest readable text of a number for a run name: the shorter of fixed and scientific
// notation (ties go to scientific, so 0.01 reads 1e-2), exponent without padding (1e-03 -> 1e-3).
std::string name_number(double v) {
  char f[64], s[64];
  auto rf = std::to_chars(f, f + sizeof f, v, std::chars_format::fixed);
  auto rs = std::to_chars(s, s + sizeof s, v, std::chars_format::scientific);
  std::string fixed(f, rf.ptr), sci(s, rs.ptr);
  const size_t e = sci.find('e');
  std::string mant = sci.substr(0, e), exp = sci.substr(e + 1), sign;
  if (!exp.empty() && (exp[0] == '+' || exp[0] == '-')) {
    if (exp[0] == '-') sign = "-";
    exp.erase(0, 1);
  }
  exp.erase(0, std::min(exp.find_first_not_of('0'), exp.size() - 1));
  sci = mant + "e" + sign + exp;
  return sci.size() <= fixed.size() ? sci : fixed;
}

// Filesystem-safe: letters, digits and "._+-" stay, parentheses vanish, anything else becomes
// '_' ("1/sqrt(L)" -> "1_sqrtL").
std::string sanitize(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) || std::strchr("._+-", c))
      out += c;
    else if (c != '(' && c != ')')
      out += '_';
  }
  return out;
}

std::string value_text(const Config& c, const std::string& key) {
  switch (find_option(key)->type) {
    case OptionType::Float:
      return name_number(c.get_float(key));
    case OptionType::Int:
      return std::to_string(c.get_int(key));
    case OptionType::Bool:
      return c.get_bool(key) ? "true" : "false";
    case OptionType::String:
      break;
  }
  return c.get_string(key);
}

// The checks DecoderLM and train() would make at startup, without allocating the model, so that
// a bad cell fails before the first run rather than hours into the sweep.
void validate_cell(const Config& c) {
  for (const char* key :
       {"d_model", "n_heads", "n_layers", "d_ff", "seq_len", "batch_size", "grad_accum", "steps"})
    if (c.get_int(key) <= 0) throw UserError(std::string("option '") + key + "' must be positive");
  if (c.get_int("d_model") % c.get_int("n_heads") != 0)
    throw UserError("option 'n_heads': " + std::to_string(c.get_int("n_heads")) +
                    " does not divide d_model " + std::to_string(c.get_int("d_model")));
  const double dropout = c.get_float("dropout");
  if (!(dropout >= 0 && dropout < 1)) throw UserError("option 'dropout' must be in [0, 1)");
  describe_stack(c);
}

void check_corpus(const std::string& data) {
  if (data.empty())
    throw UserError("option 'data': give a prepared corpus directory ('normlab prepare')");
  for (const char* f : {"tokenizer.model", "train.bin", "valid.bin"}) {
    const fs::path p = fs::path(data) / f;
    if (!fs::is_regular_file(p))
      throw UserError(p.string() + ": not found (is '" + data +
                      "' a corpus made by 'normlab prepare'?)");
  }
}

}  // namespace

SweepAxis parse_axis(const std::string& key, const std::string& text, const std::string& origin) {
  SweepAxis axis{key, {}, origin};
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    std::string v =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const size_t b = v.find_first_not_of(" \t"), e = v.find_last_not_of(" \t");
    v = b == std::string::npos ? "" : v.substr(b, e - b + 1);
    if (v.empty()) throw UserError(origin + ": empty value in '" + text + "'");
    axis.values.push_back(v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return axis;
}

void check_option_key(const std::string& key, const std::string& origin) {
  if (!find_option(key)) Config::defaults().set(key, "", origin);
}

std::vector<SweepAxis> combine_axes(std::vector<SweepAxis> earlier,
                                    const std::vector<SweepAxis>& later) {
  for (const SweepAxis& a : later) {
    auto same = [&](const SweepAxis& b) { return b.key == a.key; };
    auto it = std::find_if(earlier.begin(), earlier.end(), same);
    if (it != earlier.end())
      *it = a;
    else
      earlier.push_back(a);
  }
  return earlier;
}

std::vector<SweepAxis> option_axes(const Config& config) {
  static const std::pair<const char*, const char*> kAxisOptions[] = {{"placements", "placement"},
                                                                     {"norms", "norm"},
                                                                     {"depths", "n_layers"},
                                                                     {"lrs", "lr"},
                                                                     {"dts", "dt"},
                                                                     {"seeds", "seed"}};
  std::vector<SweepAxis> axes;
  for (const auto& [option, key] : kAxisOptions) {
    const std::string& text = config.get_string(option);
    if (!text.empty()) axes.push_back(parse_axis(key, text, std::string("--") + option));
  }
  return axes;
}

SweepAxis parse_grid_argument(const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw UserError("--grid: expected KEY=V1,V2,... , got '" + text + "'");
  const std::string key = text.substr(0, eq);
  check_option_key(key, "--grid");
  return parse_axis(key, text.substr(eq + 1), "--grid " + key);
}

std::vector<SweepAxis> sweep_axes(const std::vector<SweepAxis>& file_axes,
                                  const std::vector<SweepAxis>& command_axes,
                                  const std::set<std::string>& fixed_keys) {
  for (size_t i = 0; i < command_axes.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (command_axes[j].key == command_axes[i].key)
        throw UserError(command_axes[i].origin + ": '" + command_axes[i].key +
                        "' is already given by " + command_axes[j].origin);
  const std::vector<SweepAxis> axes = combine_axes(file_axes, command_axes);
  for (const auto& a : axes) {
    if (a.key == "out_dir")
      throw UserError(a.origin + ": 'out_dir' cannot be a grid axis (it is the sweep directory)");
    if (fixed_keys.count(a.key))
      throw UserError("--" + a.key + ": '" + a.key + "' is a grid axis of this sweep (" + a.origin +
                      "); give its values there");
  }
  return axes;
}

std::string run_name(const Config& c, const std::vector<std::string>& axis_keys) {
  auto on_grid = [&](const std::string& k) {
    return std::find(axis_keys.begin(), axis_keys.end(), k) != axis_keys.end();
  };
  std::string name = sanitize(c.get_string("placement"));
  if (on_grid("norm")) name += "-" + sanitize(c.get_string("norm"));
  name += "-L" + value_text(c, "n_layers") + "-lr" + sanitize(value_text(c, "lr")) + "-dt" +
          sanitize(value_text(c, "dt"));
  static const std::set<std::string> named = {"placement", "norm", "n_layers", "lr", "dt", "seed"};
  for (const auto& k : axis_keys)
    if (!named.count(k)) name += "-" + k + sanitize(value_text(c, k));
  return name + "-s" + value_text(c, "seed");
}

std::vector<SweepCell> expand_grid(const Config& base, const std::vector<SweepAxis>& given) {
  const std::string sweep_dir = base.get_string("out_dir");
  if (sweep_dir.empty())
    throw UserError("option 'out_dir': give the sweep directory (--out_dir SWEEP_DIR)");
  // Fixed axis order, seed last so that replicates of one setting are consecutive runs.
  std::vector<SweepAxis> axes;
  for (const char* k : {"placement", "norm", "n_layers", "lr", "dt"})
    for (const auto& a : given)
      if (a.key == k) axes.push_back(a);
  for (const auto& a : given)
    if (std::find_if(axes.begin(), axes.end(),
                     [&](const SweepAxis& b) { return b.key == a.key; }) == axes.end() &&
        a.key != "seed")
      axes.push_back(a);
  for (const auto& a : given)
    if (a.key == "seed") axes.push_back(a);

  std::vector<std::string> keys;
  for (const SweepAxis& a : axes) {
    check_option_key(a.key, a.origin);
    if (a.key == "out_dir")
      throw UserError(a.origin +
                      ": 'out_dir' cannot be a grid axis (each run's directory is named by the "
                      "sweep)");
    if (a.values.empty()) throw UserError(a.origin + ": grid axis '" + a.key + "' has no values");
    // Each value must be valid for its option, and two spellings of one value (1e-3, 0.001)
    // would be the same run twice.
    Config scratch = base;
    std::set<std::string> seen;
    for (const auto& v : a.values) {
      scratch.set(a.key, v, a.origin);
      if (!seen.insert(scratch.to_json()[a.key].dump()).second)
        throw UserError(a.origin + ": value '" + v + "' of '" + a.key + "' appears twice");
    }
    keys.push_back(a.key);
  }

  std::vector<SweepCell> cells;
  std::set<std::string> names, corpora;
  std::vector<size_t> idx(axes.size(), 0);
  while (true) {
    Config c = base;
    for (size_t i = 0; i < axes.size(); ++i)
      c.set(axes[i].key, axes[i].values[idx[i]], axes[i].origin);
    const std::string name = run_name(c, keys);
    const std::string dir = (fs::path(sweep_dir) / name).string();
    try {
      validate_cell(c);
    } catch (const UserError& e) {
      throw UserError(dir + ": " + e.what());
    }
    if (corpora.insert(c.get_string("data")).second) check_corpus(c.get_string("data"));
    if (!names.insert(name).second)
      throw UserError(dir + ": two cells of the grid map to this run directory");
    c.set("out_dir", dir, "sweep");
    for (const OptionSpec& o : all_options())
      if (o.group == "sweep") c.set(o.key, o.default_value, "sweep");
    cells.push_back({name, std::move(c)});
    // Odometer over the axes, the last (seed) fastest.
    size_t i = axes.size();
    while (i > 0 && ++idx[i - 1] == axes[i - 1].values.size()) idx[--i] = 0;
    if (i == 0) break;
  }
  return cells;
}
}  // namespace normlab
