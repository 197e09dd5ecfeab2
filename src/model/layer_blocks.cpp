// Per-layer block lists (layer_blocks.hpp).
#include "model/layer_blocks.hpp"

#include <cctype>
#include <optional>

#include "core/config.hpp"
#include "core/placement_presets.hpp"

namespace normlab {

namespace {

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(' ');
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(' ') - a + 1);
}

// A non-negative decimal, or nothing.
std::optional<int> layer_index(const std::string& s) {
  if (s.empty() || s.size() > 6) return std::nullopt;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  return std::stoi(s);
}

// The placements whose preset has a block of its own, for the error message.
std::string block_preset_names() {
  std::string out;
  for (const PlacementPreset& p : placement_presets())
    for (const auto& [key, value] : p.values)
      if (std::string(key) == "block" && std::string(p.name) != "mixln")
        out += std::string(out.empty() ? "" : ", ") + p.name;
  return out;
}

// A block description, or a preset's block by the preset's name.
std::string block_text(const std::string& value, const std::string& fail_prefix) {
  if (value.find(':') != std::string::npos) return value;
  for (const PlacementPreset& p : placement_presets()) {
    if (value != p.name) continue;
    if (value == "mixln")
      throw UserError(fail_prefix + "'mixln' is itself per-layer; write its ranges (post, pre)");
    for (const auto& [key, block] : p.values)
      if (std::string(key) == "block") return block;
  }
  throw UserError(fail_prefix + "'" + value + "' is neither a block description nor one of " +
                  block_preset_names());
}

}  // namespace

bool is_layer_list(const std::string& text) {
  const std::string t = trim(text);
  return !t.empty() && std::isdigit(static_cast<unsigned char>(t[0]));
}

std::vector<BlockRecipe> parse_layer_list(const std::string& text, int layers,
                                          const std::string& where, const std::string& stack) {
  const std::string depth = std::to_string(layers) + " layers" +
                            (stack.empty() ? "" : " of the " + stack) + " (0-" +
                            std::to_string(layers - 1) + ")";
  std::vector<std::optional<BlockRecipe>> blocks(layers);
  std::vector<std::string> owner(layers);  // the entry that set each layer, for the errors
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    const std::string entry = trim(text.substr(pos, comma - pos));
    pos = comma + 1;
    const std::string at = where + ": entry '" + entry + "': ";
    const size_t colon = entry.find(':');
    if (colon == std::string::npos)
      throw UserError(at + "expected RANGE: BLOCK, as in '0-3: post, 4-: pre'");
    const std::string range = trim(entry.substr(0, colon));
    const size_t dash = range.find('-');
    const std::optional<int> first = layer_index(trim(range.substr(0, dash)));
    std::optional<int> last = first;
    if (dash != std::string::npos) {
      const std::string end = trim(range.substr(dash + 1));
      last = end.empty() ? std::optional<int>(layers - 1) : layer_index(end);
    }
    if (!first || !last)
      throw UserError(at + "range '" + range + "': expected A-B, A- or A (0-based layers)");
    if (*first >= layers || *last >= layers)
      throw UserError(at + "range '" + range + "' goes beyond the " + depth);
    if (*last < *first) throw UserError(at + "range '" + range + "' ends before it starts");
    const std::string value = trim(entry.substr(colon + 1));
    const BlockRecipe recipe = parse_block(block_text(value, at), at.substr(0, at.size() - 2));
    for (int l = *first; l <= *last; ++l) {
      if (blocks[l])
        throw UserError(at + "layer " + std::to_string(l) + " is already given by '" + owner[l] +
                        "'");
      blocks[l] = recipe;
      owner[l] = entry;
    }
  }
  std::vector<BlockRecipe> out;
  for (int l = 0; l < layers; ++l) {
    if (!blocks[l])
      throw UserError(where + ": per-layer list '" + text + "' gives no block for layer " +
                      std::to_string(l) + " of the " + depth);
    out.push_back(*blocks[l]);
  }
  return out;
}

std::string layer_list_text(const std::vector<BlockRecipe>& blocks) {
  std::string out;
  for (size_t a = 0; a < blocks.size();) {
    const std::string t = blocks[a].text();
    size_t b = a + 1;
    while (b < blocks.size() && blocks[b].text() == t) ++b;
    out += (out.empty() ? "" : ", ") + std::to_string(a) + "-" + std::to_string(b - 1) + ": " + t;
    a = b;
  }
  return out;
}

}  // namespace normlab
