#include "model/block_description.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/config.hpp"
#include "core/placement_presets.hpp"
#include "model/completep.hpp"
#include "model/layer_blocks.hpp"

namespace normlab {

bool SublayerRecipe::has(Op op) const {
  for (const auto& ops : {&pre, &post})
    for (Op o : *ops)
      if (o == op) return true;
  return false;
}

bool SublayerRecipe::needs(unsigned scratch) const {
  for (const auto& ops : {&pre, &post})
    for (Op o : *ops)
      if (op_spec(o).scratch & scratch) return true;
  return false;
}

std::string SublayerRecipe::text() const {
  std::string s;
  for (Op o : pre) s += op_spec(o).letter;
  s += '|';
  for (Op o : post) s += op_spec(o).letter;
  return s;
}

std::string BlockRecipe::text() const {
  return "attn:" + attn.text() + (has_cross ? " cross:" + cross.text() : "") + " mlp:" + mlp.text();
}

namespace {
// "N, n, s, q": the letters that may stand before (pre) or after '|', for error messages.
std::string letters(bool pre) {
  std::string out;
  for (const OpSpec& s : block_ops())
    if ((s.place == OpPlace::Pre) == pre && out.find(s.letter) == std::string::npos)
      out += std::string(out.empty() ? "" : ", ") + s.letter;
  return out;
}
}  // namespace

SublayerRecipe parse_sublayer(const std::string& text, unsigned sublayer,
                              const std::string& origin) {
  auto fail = [&](const std::string& why) {
    throw UserError(origin + ": block description '" + text + "': " + why);
  };
  auto bar = text.find('|');
  if (bar == std::string::npos) fail("expected PRE|POST");
  SublayerRecipe r;
  bool seen_residual = false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == bar) continue;
    const char c = text[i];
    const bool pre = i < bar;
    const std::string letter = std::string("'") + c + "'";
    const OpSpec* spec = find_op(c, pre, seen_residual);
    if (!spec)
      fail("unknown letter " + letter + (pre ? " before" : " after") + " '|' (use " + letters(pre) +
           ")");
    if (!(spec->sublayers & sublayer))
      fail(letter + (spec->sublayers == kAttentionOnly ? " only applies to attention"
                                                       : " does not apply to this sublayer"));
    const char a = op_spec(Op::Residual).letter;
    if (spec->place == OpPlace::BeforeResidual && seen_residual)
      fail(letter + " must come before '" + a + "'");
    if (spec->place == OpPlace::AfterResidual && !seen_residual)
      fail(letter + " must come after '" + a + "'");
    if (r.has(spec->op)) fail("letter " + letter + " repeated");
    if (spec->place == OpPlace::Residual && seen_residual)
      fail(letter + ": one residual per sublayer ('" + a + "', '" + op_spec(Op::SphereStep).letter +
           "' or '" + op_spec(Op::ShortcutWeight).letter + "')");
    if (spec->place == OpPlace::Residual) seen_residual = true;
    (pre ? r.pre : r.post).push_back(spec->op);
  }
  if (!seen_residual)
    fail(std::string("missing the residual '") + op_spec(Op::Residual).letter + "' (or '" +
         op_spec(Op::SphereStep).letter + "', '" + op_spec(Op::ShortcutWeight).letter + "')");
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
      b.attn = parse_sublayer(part.substr(5), kSelfAttention, origin);
      has_attn = true;
    } else if (part.rfind("cross:", 0) == 0) {
      b.cross = parse_sublayer(part.substr(6), kCrossAttention, origin);
      b.has_cross = true;
    } else if (part.rfind("mlp:", 0) == 0) {
      b.mlp = parse_sublayer(part.substr(4), kMLP, origin);
      has_mlp = true;
    } else {
      throw UserError(origin + ": block description '" + text +
                      "': expected 'attn:PRE|POST [cross:PRE|POST] mlp:PRE|POST'");
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

StackDescription describe_stack(const Config& given, StackRole role) {
  // The placement's option values written out (core/placement_presets.cpp): from here on only
  // values are read, never the placement's name.
  const Config config = expand_placement(given);
  const bool encdec = role != StackRole::LanguageModel;
  const int M = static_cast<int>(config.get_int("n_layers"));  // decoder (or LM) depth
  const int N = encdec ? static_cast<int>(config.get_int("encoder_layers")) : 0;
  const int L = role == StackRole::Encoder ? N : M;
  StackDescription s;
  s.role = role;
  s.layers = L;
  // A decoder block's cross-attention follows its self-attention's recipe unless given
  // (B2T's decoder, h2 = N2(h1 + C(h1, m)), is Post-LN's cross sublayer).
  auto resolve = [&](BlockRecipe b) {
    if (role == StackRole::Decoder && !b.has_cross) b.cross = b.attn;
    b.has_cross = role == StackRole::Decoder;
    return b;
  };
  // One block description per layer, from a per-layer list (layer_blocks.hpp). Mix-LN's options
  // write one: lower_block for the lowest floor(lower_fraction L) layers, block above
  // ("0-(k-1): LOWER, k-: BLOCK").
  const std::string& block = config.get_string("block");
  const std::string& lower = config.get_string("lower_block");
  std::string list = block;
  if (is_layer_list(block)) {
    if (!lower.empty())
      throw UserError(
          "option 'lower_block': not with a per-layer 'block' list (give its range "
          "in the list)");
  } else {
    parse_block(block, "option 'block'");  // errors name the option the user wrote
    int k = 0;
    if (!lower.empty()) {
      parse_block(lower, "option 'lower_block'");
      k = static_cast<int>(std::floor(config.get_float("lower_fraction") * L + 1e-9));
    }
    list = k > 0 ? "0-" + std::to_string(k - 1) + ": " + lower : "";
    if (k < L) list += (list.empty() ? "" : ", ") + std::to_string(k) + "-: " + block;
  }
  const std::string stack = role == StackRole::Encoder   ? "encoder"
                            : role == StackRole::Decoder ? "decoder"
                                                         : "";
  for (const BlockRecipe& b : parse_layer_list(list, L, "option 'block'", stack))
    s.blocks.push_back(resolve(b));
  for (const auto& b : s.blocks)
    for (const SublayerRecipe* r : {&b.attn, &b.mlp, b.has_cross ? &b.cross : nullptr}) {
      if (r && r->needs(kDualStream)) s.dual_stream = true;
      if (r && r->has(Op::DualInput)) s.dual_input = true;
    }
  // nGPT (Loshchilov et al. 2024) is a decoder-only design: the paper and NVIDIA/ngpt define
  // no encoder or cross-attention on the hypersphere, so an encoder-decoder does not take its
  // letters (the cross sublayer would have no faithful form).
  s.on_sphere = true;
  for (const auto& b : s.blocks) {
    const bool a = b.attn.has(Op::SphereStep), m = b.mlp.has(Op::SphereStep);
    s.on_sphere = s.on_sphere && a && m;
    if (encdec && (a || m || b.attn.has(Op::UnitSublayer) || b.mlp.has(Op::UnitSublayer)))
      throw UserError(
          "option 'block': nGPT's letters 'u' and 'h' (placement 'ngpt') are defined for "
          "arch=lm only, not for an encoder-decoder");
  }
  s.final_norm = config.get_string("final_norm") == "true";
  // ResiDual's output is x_L + N(d_L), without a final norm; SiameseNorm's final norm is the
  // option's.
  if (s.dual_stream && !s.dual_input) s.final_norm = false;
  // CompleteP (Dey et al. 2025): x <- x + m_L^-alpha F(x), on top of dt; the optimizer reads
  // the block tensors' lr and eps multipliers from here (train/optimizer.cpp).
  const CompleteP completep = CompleteP::from_config(config);
  s.dt = static_cast<float>(parse_dt(config.get_string("dt"), L) * completep.residual_scale(L));
  s.block_lr_scale = static_cast<float>(completep.block_lr_scale(L));
  s.block_eps_scale = static_cast<float>(completep.block_eps_scale(L));
  // DeepNorm constants (Wang et al. 2022, torchscale): decoder-only alpha = (2L)^(1/4),
  // beta = (8L)^(-1/4); encoder alpha = 0.81 (N^4 M)^(1/16), beta = 0.87 (N^4 M)^(-1/16);
  // decoder alpha = (3M)^(1/4), beta = (12M)^(-1/4).
  const double nm = std::pow(static_cast<double>(N), 4) * M;
  double deep_alpha = std::pow(2.0 * L, 0.25), deep_beta = std::pow(8.0 * L, -0.25);
  if (role == StackRole::Encoder)
    deep_alpha = 0.81 * std::pow(nm, 1.0 / 16), deep_beta = 0.87 * std::pow(nm, -1.0 / 16);
  if (role == StackRole::Decoder)
    deep_alpha = std::pow(3.0 * M, 0.25), deep_beta = std::pow(12.0 * M, -0.25);
  const std::string& a = config.get_string("residual_alpha");
  if (a == "deepnorm") {
    s.alpha = static_cast<float>(deep_alpha);
  } else {
    char* end = nullptr;
    double v = std::strtod(a.c_str(), &end);
    if (a.empty() || *end != '\0')
      throw UserError("option 'residual_alpha': expected 'auto', 'deepnorm' or a number, got '" +
                      a + "'");
    s.alpha = static_cast<float>(v);
  }
  s.init = config.get_string("init");
  // The init scheme's gain (init.cpp): DeepNorm's beta for this stack, or T-Fixup's
  // (Huang et al. 2020) decoder rule (9L)^(-1/4) and encoder rule 0.67 N^(-1/4). (Huang et al.
  // 2020) decoder rule (9L)^(-1/4); its encoder rule 0.67 N^(-1/4).
  if (s.init == "deepnorm") s.init_gain = static_cast<float>(deep_beta);
  // Magneto's gamma (Wang et al. 2022, "Foundation Transformers"; torchscale subln=True):
  // decoder-only or encoder-only sqrt(log 2L); encoder-decoder encoder
  // sqrt(log(3M) log(2N) / 3), decoder sqrt(log 3M).
  if (s.init == "subln")
    s.init_gain = static_cast<float>(role == StackRole::Encoder
                                         ? std::sqrt(std::log(3.0 * M) * std::log(2.0 * N) / 3.0)
                                     : role == StackRole::Decoder ? std::sqrt(std::log(3.0 * M))
                                                                  : std::sqrt(std::log(2.0 * L)));
  if (s.init == "tfixup")
    s.init_gain = static_cast<float>(role == StackRole::Encoder ? 0.67 * std::pow(L, -0.25)
                                                                : std::pow(9.0 * L, -0.25));
  return s;
}

namespace {
std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// What CompleteP makes of the options, stack by stack ("" when completep_alpha is off).
std::string completep_lines(const Config& config) {
  const CompleteP c = CompleteP::from_config(expand_placement(config));
  if (!c.on) return "";
  const double eps = config.get_float("adam_eps");
  std::string out = "# CompleteP resolved (docs/placements.md, \"CompleteP\"), m_L = L / " +
                    std::to_string(c.base_depth) + "; embeddings and final norm: lr x 1, " +
                    "adam_eps " + number(eps) + "\n";
  const bool encdec = config.get_string("arch") == "encdec";
  for (StackRole role : encdec ? std::vector<StackRole>{StackRole::Encoder, StackRole::Decoder}
                               : std::vector<StackRole>{StackRole::LanguageModel}) {
    const StackDescription s = describe_stack(config, role);
    out += std::string("#   ") +
           (!encdec                      ? ""
            : role == StackRole::Encoder ? "encoder: "
                                         : "decoder: ") +
           "L " + std::to_string(s.layers) + ", residual branch x " +
           number(c.residual_scale(s.layers)) + " (dt " + number(s.dt) +
           "), tensors in the blocks: lr x " + number(s.block_lr_scale) + ", adam_eps " +
           number(eps * s.block_eps_scale) + "\n";
  }
  return out;
}

// `lines` inserted after the line `key: ...` of `yaml` (at the end if it has none).
std::string insert_after(std::string yaml, const std::string& key, const std::string& lines) {
  const size_t at = yaml.find("\n" + key + ": ");
  const size_t end = at == std::string::npos ? yaml.size() : yaml.find('\n', at + 1) + 1;
  return yaml.insert(end, lines);
}
}  // namespace

std::string dump_config_with_layers(const Config& config) {
  std::string yaml = config.dump_yaml();
  // The dump is a config file that builds: blocks that do not resolve (a range past the depth, a
  // letter the arch refuses) or a CompleteP alpha out of range throw here, as the model would.
  std::string layers =
      "# Blocks per layer, resolved (docs/placements.md, \"Per-layer designs\"):\n";
  if (config.get_string("arch") == "encdec")
    layers +=
        "#   encoder: " + layer_list_text(describe_stack(config, StackRole::Encoder).blocks) +
        "\n#   decoder: " + layer_list_text(describe_stack(config, StackRole::Decoder).blocks) +
        "\n";
  else
    layers += "#   " + layer_list_text(describe_stack(config).blocks) + "\n";
  const std::string completep = completep_lines(config);
  return insert_after(insert_after(yaml, "block", layers), "completep_base_depth", completep);
}

}  // namespace normlab
