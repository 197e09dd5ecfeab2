#include "diag/probes.hpp"

#include <cmath>

namespace normlab {

HiddenStats hidden_stats(const float* h, int B, int T, int d) {
  const size_t n = static_cast<size_t>(B) * T * d, per_seq = static_cast<size_t>(T) * d;
  double sum = 0, sum_sq = 0, sum_abs = 0, batch_var = 0;
#pragma omp parallel for reduction(+ : sum, sum_sq, sum_abs, batch_var)
  for (size_t k = 0; k < per_seq; ++k) {
    double s = 0, s2 = 0;
    for (int b = 0; b < B; ++b) {
      const double v = h[b * per_seq + k];
      s += v, s2 += v * v, sum_abs += std::fabs(v);
    }
    sum += s, sum_sq += s2;
    const double m = s / B;
    batch_var += s2 / B - m * m;
  }
  HiddenStats st;
  st.rms = std::sqrt(sum_sq / n);
  st.mean_abs = sum_abs / n;
  const double mean = sum / n;
  st.var = sum_sq / n - mean * mean;
  st.batch_var = batch_var / per_seq;
  return st;
}

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

double attention_entropy(const float* att, int B, int H, int T) {
  double total = 0;
#pragma omp parallel for reduction(+ : total)
  for (int bh = 0; bh < B * H; ++bh) {
    for (int i = 0; i < T; ++i) {
      const float* row = att + (static_cast<size_t>(bh) * T + i) * T;
      for (int j = 0; j <= i; ++j)
        if (row[j] > 0) total -= row[j] * std::log(static_cast<double>(row[j]));
    }
  }
  return total / (static_cast<double>(B) * H * T);
}

namespace {
nlohmann::json to_json(const HiddenStats& s) {
  return {{"rms", s.rms}, {"mean_abs", s.mean_abs}, {"var", s.var}, {"batch_var", s.batch_var}};
}
}  // namespace

nlohmann::json probe_model(const DecoderLM& model) {
  const ModelShape& m = model.shape();
  const int B = model.batch(), T = model.seq(), d = m.d, BT = B * T;
  const bool rms = m.norm == NormKind::RMSNorm;
  const auto& subs = model.sublayers();
  const auto& g_in = model.grad_block_input();
  const auto& g_out = model.grad_sublayer_output();
  nlohmann::json blocks = nlohmann::json::array();
  for (int l = 0; l < m.layers; ++l) {
    const Sublayer& attn = subs[2 * l];
    const Sublayer& mlp = subs[2 * l + 1];
    nlohmann::json b;
    b["block"] = l + 1;
    b["input"] = to_json(hidden_stats(attn.x_in, B, T, d));
    b["attn_out"] = to_json(hidden_stats(attn.f_out, B, T, d));
    b["mlp_out"] = to_json(hidden_stats(mlp.f_out, B, T, d));
    if (!g_in.empty()) {
      b["grad_input"] = g_in[l];
      b["grad_attn_out"] = g_out[2 * l];
      b["grad_mlp_out"] = g_out[2 * l + 1];
    }
    b["attn_entropy"] = attention_entropy(attn.att, B, m.heads, T);
    nlohmann::json stds = nlohmann::json::object();
    for (const Sublayer* s : {&attn, &mlp}) {
      const std::string prefix = s->is_attention ? "attn." : "mlp.";
      const float* x_eff = s->xs ? s->xs : s->x_in;
      if (s->norm_stream.width) stds[prefix + "norm_stream"] = mean_row_scale(s->x_in, BT, d, rms);
      if (s->norm_in.width) stds[prefix + "norm_in"] = mean_row_scale(x_eff, BT, d, rms);
      if (s->qkv_raw) {
        const int hd = d / m.heads;
        const char* names[3] = {"q_norm", "k_norm", "v_norm"};
        for (int part = 0; part < 3; ++part)
          stds[prefix + names[part]] = mean_row_scale(
              s->qkv_raw + static_cast<size_t>(part) * BT * d, BT * m.heads, hd, rms);
      }
      const float* v = s->f_out;
      for (size_t j = 0; j < s->recipe.post.size(); ++j) {
        PostOp op = s->recipe.post[j];
        if (op == PostOp::NormOut || op == PostOp::NormPost)
          stds[prefix + (op == PostOp::NormOut ? "norm_out" : "norm_post")] =
              mean_row_scale(v, BT, d, rms);
        if (s->post_out[j]) v = s->post_out[j];
      }
    }
    b["norm_std"] = stds;
    blocks.push_back(b);
  }
  return {{"blocks", blocks}, {"output", to_json(hidden_stats(model.stack_output(), B, T, d))}};
}

}  // namespace normlab
