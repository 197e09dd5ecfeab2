#include "diag/probes.hpp"

#include <cmath>
#include <vector>

#include "kernels/activation.hpp"

namespace normlab {

double mean_row_scale(const float* x, int rows, int d, bool rms) {
  double total = 0;
#pragma omp parallel for reduction(+ : total)
  for (int r = 0; r < rows; ++r) {
    const float* row = x + static_cast<size_t>(r) * d;
    double s = 0, s2 = 0;
    for (int j = 0; j < d; ++j) s += row[j], s2 += static_cast<double>(row[j]) * row[j];
    const double m = rms ? 0.0 : s / d;
    total += std::sqrt(std::max(0.0, s2 / d - m * m));
  }
  return rows > 0 ? total / rows : 0.0;
}

double mean_entropy(const float* entropy, size_t rows) {
  double total = 0;
  for (size_t i = 0; i < rows; ++i) total += entropy[i];
  return rows > 0 ? total / static_cast<double>(rows) : 0.0;
}

namespace {
nlohmann::json to_json(const HiddenStats& s) {
  return {{"rms", s.rms}, {"mean_abs", s.mean_abs}, {"var", s.var}, {"batch_var", s.batch_var}};
}
}  // namespace

nlohmann::json probe_stack(const TransformerStack& stack) {
  const ModelShape& m = stack.shape();
  const int B = stack.batch(), T = stack.seq(), d = m.d, BT = B * T;
  const bool rms = m.norm == NormKind::RMSNorm;
  const auto& subs = stack.sublayers();
  const int per_block = stack.sublayers_per_block();
  const auto& g_in = stack.grad_block_input();
  const auto& g_out = stack.grad_sublayer_output();
  nlohmann::json blocks = nlohmann::json::array();
  for (int l = 0; l < stack.description().layers; ++l) {
    nlohmann::json b;
    b["block"] = l + 1;
    b["input"] = to_json(hidden_stats(subs[per_block * l].x_in, B, T, d));
    if (!g_in.empty()) b["grad_input"] = g_in[l];
    nlohmann::json stds = nlohmann::json::object();
    for (int k = 0; k < per_block; ++k) {
      const size_t index = static_cast<size_t>(per_block * l + k);
      const Sublayer& s = subs[index];
      const std::string name = s.name();
      b[name + "_out"] = to_json(s.f_out_stats);
      if (!g_out.empty()) b["grad_" + name + "_out"] = g_out[index];
      if (s.is_attention())
        b[s.kind == SublayerKind::CrossAttention ? "cross_attn_entropy" : name + "_entropy"] =
            mean_entropy(s.entropy, static_cast<size_t>(BT) * m.heads);
      const std::string prefix = name + ".";
      // Each norm's input: the stream (N), the dual stream (D), x_eff [+ N(d)] (n), q/k/v before
      // their norms (q), and for a POST norm the value before it. Names as in the parameters
      // (block_ops.cpp).
      const bool stream_norm = s.recipe.has(Op::NormStream);
      const float* x_eff = stream_norm ? s.at(Op::NormStream).out[0] : s.x_in;
      auto norm_name = [&](Op op, int part) { return prefix + op_spec(op).norms[part].name; };
      if (stream_norm) stds[norm_name(Op::NormStream, 0)] = mean_row_scale(s.x_in, BT, d, rms);
      const bool dual_input = s.recipe.has(Op::DualInput);
      if (dual_input)
        stds[norm_name(Op::DualInput, 0)] = mean_row_scale(s.at(Op::DualInput).in[0], BT, d, rms);
      const float* f_base = dual_input ? s.at(Op::DualInput).out[0] : x_eff;
      if (s.recipe.has(Op::Norm)) stds[norm_name(Op::Norm, 0)] = mean_row_scale(f_base, BT, d, rms);
      if (s.recipe.has(Op::QKVNorm)) {
        const int hd = d / m.heads;
        const int S = s.kind == SublayerKind::CrossAttention ? stack.memory_seq() : T;
        const OpState& qn = s.at(Op::QKVNorm);
        for (int part = 0; part < 3; ++part)
          stds[norm_name(Op::QKVNorm, part)] =
              mean_row_scale(qn.in[part], (part == 0 ? BT : B * S) * m.heads, hd, rms);
      }
      if (s.recipe.has(Op::QKProjNorm)) {
        const int S = s.kind == SublayerKind::CrossAttention ? stack.memory_seq() : T;
        const OpState& qk = s.at(Op::QKProjNorm);
        for (int part = 0; part < 2; ++part)
          stds[norm_name(Op::QKProjNorm, part)] =
              mean_row_scale(qk.in[part], part == 0 ? BT : B * S, d, rms);
      }
      if (s.recipe.has(Op::InnerNorm)) {  // the input of F's output projection
        if (s.is_attention()) {
          stds[norm_name(Op::InnerNorm, 0)] = mean_row_scale(s.o, BT, d, rms);
        } else {  // gelu(h1), recomputed as the backward does
          std::vector<float> g(static_cast<size_t>(BT) * m.d_ff);
          gelu_forward(g.data(), s.h1, g.size());
          stds[norm_name(Op::InnerNorm, 0)] = mean_row_scale(g.data(), BT, m.d_ff, rms);
        }
      }
      const float* v = s.f_out;
      for (Op op : s.recipe.post) {
        for (const OpNorm& norm : op_spec(op).norms)
          stds[prefix + norm.name] = mean_row_scale(v, BT, d, rms);
        if (s.at(op).out[0]) v = s.at(op).out[0];
      }
    }
    b["norm_std"] = stds;
    blocks.push_back(b);
  }
  return {{"blocks", blocks}, {"output", to_json(hidden_stats(stack.top(), B, T, d))}};
}

nlohmann::json probe_model(const Model& model) {
  const auto stacks = model.stacks();
  nlohmann::json line = probe_stack(*stacks.back());
  if (stacks.size() > 1) line["encoder"] = probe_stack(*stacks.front());
  return line;
}

}  // namespace normlab
