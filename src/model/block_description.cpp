#include "model/block_description.hpp"

#include <cmath>
#include <cstdlib>

#include "core/config.hpp"

namespace normlab {

bool SublayerRecipe::has(PreOp op) const {
  for (auto p : pre)
    if (p == op) return true;
  return false;
}
bool SublayerRecipe::has(PostOp op) const {
  for (auto p : post)
    if (p == op) return true;
  return false;
}

std::string SublayerRecipe::text() const {
  std::string s;
  for (auto p : pre)
    s += p == PreOp::NormStream     ? 'N'
         : p == PreOp::Norm         ? 'n'
         : p == PreOp::ScaleByDepth ? 's'
                                    : 'q';
  s += '|';
  for (auto p : post) {
    switch (p) {
      case PostOp::NormOut:
      case PostOp::NormPost:
        s += 'n';
        break;
      case PostOp::Dropout:
        s += 'd';
        break;
      case PostOp::Dual:
        s += 'r';
        break;
      case PostOp::Residual:
        s += 'a';
        break;
      case PostOp::BlockInput:
        s += 'b';
        break;
    }
  }
  return s;
}

std::string BlockRecipe::text() const {
  return "attn:" + attn.text() + " mlp:" + mlp.text();
}

SublayerRecipe parse_sublayer(const std::string& text, bool is_attention,
                              const std::string& origin) {
  auto fail = [&](const std::string& why) {
    throw UserError(origin + ": block description '" + text + "': " + why);
  };
  auto bar = text.find('|');
  if (bar == std::string::npos) fail("expected PRE|POST");
  SublayerRecipe r;
  for (char c : text.substr(0, bar)) {
    PreOp op;
    if (c == 'N')
      op = PreOp::NormStream;
    else if (c == 'n')
      op = PreOp::Norm;
    else if (c == 's')
      op = PreOp::ScaleByDepth;
    else if (c == 'q')
      op = PreOp::QKVNorm;
    else
      fail(std::string("unknown letter '") + c + "' before '|' (use N, n, s, q)");
    if (op == PreOp::QKVNorm && !is_attention) fail("'q' only applies to attention");
    if (r.has(op)) fail(std::string("letter '") + c + "' repeated");
    r.pre.push_back(op);
  }
  // Order of PRE letters is fixed by meaning: N acts on the stream, then n, then s.
  bool seen_residual = false;
  for (char c : text.substr(bar + 1)) {
    PostOp op;
    if (c == 'n')
      op = seen_residual ? PostOp::NormPost : PostOp::NormOut;
    else if (c == 'd')
      op = PostOp::Dropout;
    else if (c == 'r')
      op = PostOp::Dual;
    else if (c == 'a')
      op = PostOp::Residual;
    else if (c == 'b')
      op = PostOp::BlockInput;
    else
      fail(std::string("unknown letter '") + c + "' after '|' (use n, d, r, a, b)");
    if (op == PostOp::Residual) seen_residual = true;
    if ((op == PostOp::Dual || op == PostOp::NormOut) && seen_residual)
      fail(std::string("'") + c + "' must come before 'a'");
    if (op == PostOp::BlockInput && !seen_residual) fail("'b' must come after 'a'");
    if (r.has(op)) fail(std::string("letter '") + c + "' repeated");
    r.post.push_back(op);
  }
  if (!seen_residual) fail("missing the residual 'a'");
  return r;
}

BlockRecipe parse_block(const std::string& text, const std::string& origin) {
  BlockRecipe b;
  bool has_attn = false, has_mlp = false;
  size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && text[pos] == ' ') ++pos;
    if (pos >= text.size()) break;
    size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    std::string part = text.substr(pos, end - pos);
    pos = end;
    if (part.rfind("attn:", 0) == 0) {
      b.attn = parse_sublayer(part.substr(5), true, origin);
      has_attn = true;
    } else if (part.rfind("mlp:", 0) == 0) {
      b.mlp = parse_sublayer(part.substr(4), false, origin);
      has_mlp = true;
    } else {
      throw UserError(origin + ": block description '" + text +
                      "': expected 'attn:PRE|POST mlp:PRE|POST'");
    }
  }
  if (!has_attn || !has_mlp)
    throw UserError(origin + ": block description '" + text + "' needs both attn: and mlp:");
  return b;
}

float parse_dt(const std::string& text, int n_layers) {
  if (text == "1/L") return 1.0f / static_cast<float>(n_layers);
  if (text == "1/sqrt(L)") return 1.0f / std::sqrt(static_cast<float>(n_layers));
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(v > 0))
    throw UserError("option 'dt': expected a positive number, '1/L' or '1/sqrt(L)', got '" + text +
                    "'");
  return static_cast<float>(v);
}

namespace {
struct Preset {
  const char* name;
  const char* block;
  bool final_norm;
};
// docs/model.md, "Placement presets"; sources in ../shared/docs/placements.md.
const Preset kPresets[] = {
    {"post", "attn:|dan mlp:|dan", false},       // Vaswani et al. 2017
    {"pre", "attn:n|da mlp:n|da", true},         // Xiong et al. 2020
    {"peri", "attn:n|nda mlp:n|nda", true},      // Kim et al. 2025
    {"sandwich", "attn:n|nda mlp:n|nda", true},  // Ding et al. 2021 (CogView)
    {"b2t", "attn:|dan mlp:|dabn", false},       // Takase et al. 2023
    {"deepnorm", "attn:|dan mlp:|dan", false},   // Wang et al. 2022
    {"mixln", "attn:n|da mlp:n|da", true},       // Li et al. 2024 (upper blocks; lower: post)
    {"lns", "attn:ns|da mlp:ns|da", true},       // Sun et al. 2025
    {"hybrid", "attn:q|da mlp:N|da", true},      // Zhuo et al. 2025
    {"resi", "attn:|dran mlp:|dran", false},     // Xie et al. 2023
    {"none", "attn:|da mlp:|da", false},         // with T-Fixup (Huang et al. 2020)
};
}  // namespace

StackDescription describe_stack(const Config& config) {
  const int L = static_cast<int>(config.get_int("n_layers"));
  std::string placement = config.get_string("placement");
  std::string block_text = config.get_string("block");
  if (!block_text.empty()) placement = "custom";
  StackDescription s;
  std::string lower_text = config.get_string("lower_block");
  bool preset_final = true;
  if (placement == "custom") {
    if (block_text.empty())
      throw UserError("option 'placement': 'custom' needs a 'block' description");
  } else {
    for (const auto& p : kPresets)
      if (placement == p.name) {
        block_text = p.block;
        preset_final = p.final_norm;
      }
    if (placement == "mixln" && lower_text.empty()) lower_text = "attn:|dan mlp:|dan";
  }
  BlockRecipe upper = parse_block(block_text, "option 'block'");
  int n_lower = 0;
  BlockRecipe lower;
  if (!lower_text.empty()) {
    lower = parse_block(lower_text, "option 'lower_block'");
    n_lower = static_cast<int>(std::floor(config.get_float("lower_fraction") * L + 1e-9));
  }
  for (int l = 0; l < L; ++l) s.blocks.push_back(l < n_lower ? lower : upper);
  for (const auto& b : s.blocks)
    if (b.attn.has(PostOp::Dual) || b.mlp.has(PostOp::Dual)) s.dual_stream = true;
  const std::string& fn = config.get_string("final_norm");
  s.final_norm = fn == "auto" ? preset_final : fn == "true";
  if (s.dual_stream) s.final_norm = false;  // ResiDual's output is x_L + N(d_L)
  s.dt = parse_dt(config.get_string("dt"), L);
  const std::string& a = config.get_string("residual_alpha");
  if (a == "auto") {
    s.alpha = placement == "deepnorm" ? static_cast<float>(std::pow(2.0 * L, 0.25)) : 1.0f;
  } else {
    char* end = nullptr;
    double v = std::strtod(a.c_str(), &end);
    if (a.empty() || *end != '\0')
      throw UserError("option 'residual_alpha': expected 'auto' or a number, got '" + a + "'");
    s.alpha = static_cast<float>(v);
  }
  s.init = config.get_string("init");
  if (s.init == "auto")
    s.init = placement == "deepnorm" ? "deepnorm" : placement == "none" ? "tfixup" : "xavier";
  return s;
}

}  // namespace normlab
