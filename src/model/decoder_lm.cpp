#include "model/decoder_lm.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/activation.hpp"
#include "kernels/adamw.hpp"
#include "kernels/attention.hpp"
#include "kernels/cross_entropy.hpp"
#include "kernels/dropout.hpp"
#include "kernels/embedding.hpp"
#include "kernels/linear.hpp"
#include "kernels/residual.hpp"

namespace normlab {

const std::vector<std::string>& model_config_keys() {
  static const std::vector<std::string> keys = {
      "vocab_size", "d_model",   "n_heads", "n_layers",       "d_ff",           "seq_len",
      "positions",  "placement", "block",   "lower_block",    "lower_fraction", "final_norm",
      "norm",       "norm_eps",  "dt",      "residual_alpha", "scale_embedding"};
  return keys;
}

namespace {
void zero(float* p, size_t n) {
  std::memset(p, 0, n * sizeof(float));
}
}  // namespace

DecoderLM::DecoderLM(const Config& config) : config_(config) {
  ModelShape& m = shape_;
  m.vocab = static_cast<int>(config.get_int("vocab_size"));
  m.d = static_cast<int>(config.get_int("d_model"));
  m.heads = static_cast<int>(config.get_int("n_heads"));
  m.layers = static_cast<int>(config.get_int("n_layers"));
  m.d_ff = static_cast<int>(config.get_int("d_ff"));
  m.max_T = static_cast<int>(config.get_int("seq_len"));
  m.learned_positions = config.get_string("positions") == "learned";
  m.embed_scale = config.get_bool("scale_embedding") ? std::sqrt(static_cast<float>(m.d)) : 1.0f;
  m.dropout = static_cast<float>(config.get_float("dropout"));
  m.norm = parse_norm_kind(config.get_string("norm"));
  m.norm_eps = static_cast<float>(config.get_float("norm_eps"));
  m.dyt_alpha = static_cast<float>(config.get_float("dyt_alpha"));
  auto positive = [](long v, const char* key) {
    if (v <= 0) throw UserError(std::string("option '") + key + "' must be positive");
  };
  positive(m.vocab, "vocab_size");
  positive(m.d, "d_model");
  positive(m.heads, "n_heads");
  positive(m.layers, "n_layers");
  positive(m.d_ff, "d_ff");
  positive(m.max_T, "seq_len");
  if (m.d % m.heads != 0)
    throw UserError("option 'n_heads': " + std::to_string(m.heads) + " does not divide d_model " +
                    std::to_string(m.d));
  if (!(m.dropout >= 0 && m.dropout < 1)) throw UserError("option 'dropout' must be in [0, 1)");
  stack_ = describe_stack(config);

  // Parameter layout, in checkpoint order (docs/model.md).
  tok_emb_ = static_cast<long>(params_.add("tok_emb.weight", {m.vocab, m.d}, ParamRole::Embedding));
  if (m.learned_positions)
    pos_emb_ =
        static_cast<long>(params_.add("pos_emb.weight", {m.max_T, m.d}, ParamRole::Embedding));
  const int hd = m.d / m.heads;
  auto norm = [&](const std::string& name, int width) {
    return NormLayer::create(params_, name, m.norm, width, m.norm_eps);
  };
  for (int l = 0; l < m.layers; ++l) {
    for (int which = 0; which < 2; ++which) {
      Sublayer s;
      s.is_attention = which == 0;
      s.layer = l + 1;
      s.recipe = s.is_attention ? stack_.blocks[l].attn : stack_.blocks[l].mlp;
      std::string base = "blocks." + std::to_string(l) + (s.is_attention ? ".attn" : ".mlp");
      if (s.recipe.has(PreOp::NormStream)) s.norm_stream = norm(base + ".norm_stream", m.d);
      if (s.recipe.has(PreOp::Norm)) s.norm_in = norm(base + ".norm_in", m.d);
      if (s.recipe.has(PreOp::QKVNorm)) {
        s.q_norm = norm(base + ".q_norm", hd);
        s.k_norm = norm(base + ".k_norm", hd);
        s.v_norm = norm(base + ".v_norm", hd);
      }
      if (s.is_attention) {
        s.w1 =
            static_cast<long>(params_.add(base + ".qkv.weight", {3 * m.d, m.d}, ParamRole::Matrix));
        s.b1 = static_cast<long>(params_.add(base + ".qkv.bias", {3 * m.d}, ParamRole::Bias));
        s.w2 = static_cast<long>(params_.add(base + ".proj.weight", {m.d, m.d}, ParamRole::Matrix));
        s.b2 = static_cast<long>(params_.add(base + ".proj.bias", {m.d}, ParamRole::Bias));
      } else {
        s.w1 =
            static_cast<long>(params_.add(base + ".fc1.weight", {m.d_ff, m.d}, ParamRole::Matrix));
        s.b1 = static_cast<long>(params_.add(base + ".fc1.bias", {m.d_ff}, ParamRole::Bias));
        s.w2 =
            static_cast<long>(params_.add(base + ".fc2.weight", {m.d, m.d_ff}, ParamRole::Matrix));
        s.b2 = static_cast<long>(params_.add(base + ".fc2.bias", {m.d}, ParamRole::Bias));
      }
      if (s.recipe.has(PostOp::NormOut)) s.norm_out = norm(base + ".norm_out", m.d);
      if (s.recipe.has(PostOp::NormPost)) s.norm_post = norm(base + ".norm_post", m.d);
      subs_.push_back(std::move(s));
    }
  }
  if (stack_.final_norm) final_norm_ = norm("final_norm", m.d);
  if (stack_.dual_stream) resi_norm_ = norm("resi_norm", m.d);
  params_.allocate();
  if (!m.learned_positions) {
    sinusoids_.resize(static_cast<size_t>(m.max_T) * m.d);
    sinusoidal_positions(sinusoids_.data(), m.max_T, m.d);
  }
}

// ---------------------------------------------------------------------------------------------
// Memory plan: every buffer the forward saves and the backward needs, in one arena.

void DecoderLM::plan_sublayer(Sublayer& s, std::vector<std::pair<float**, size_t>>& wants,
                              size_t BT) {
  const size_t d = shape_.d, H = shape_.heads;
  auto want = [&](float** p, size_t n) { wants.emplace_back(p, n); };
  if (s.norm_stream.width) want(&s.xs, BT * d), want(&s.xs_mean, BT), want(&s.xs_rstd, BT);
  if (s.norm_in.width) want(&s.un, BT * d), want(&s.un_mean, BT), want(&s.un_rstd, BT);
  if (s.recipe.has(PreOp::ScaleByDepth)) want(&s.us, BT * d);
  if (s.is_attention) {
    want(&s.qkv, BT * 3 * d);
    if (s.recipe.has(PreOp::QKVNorm)) {
      want(&s.qkv_raw, BT * 3 * d), want(&s.qkv_n, BT * 3 * d);
      want(&s.qkv_mean, 3 * BT * H), want(&s.qkv_rstd, 3 * BT * H);
    }
    want(&s.att, BT * H * static_cast<size_t>(plan_T_)), want(&s.o, BT * d);
  } else {
    want(&s.h1, BT * shape_.d_ff), want(&s.g, BT * shape_.d_ff);
  }
  want(&s.f_out, BT * d);
  const size_t n_post = s.recipe.post.size();
  s.post_out.assign(n_post, nullptr);
  s.post_mean.assign(n_post, nullptr);
  s.post_rstd.assign(n_post, nullptr);
  for (size_t j = 0; j < n_post; ++j) {
    PostOp op = s.recipe.post[j];
    if (op == PostOp::Dual || (op == PostOp::Dropout && shape_.dropout == 0)) continue;  // alias
    want(&s.post_out[j], BT * d);
    if (op == PostOp::NormOut || op == PostOp::NormPost)
      want(&s.post_mean[j], BT), want(&s.post_rstd[j], BT);
  }
}

void DecoderLM::plan(int B, int T) {
  if (T > shape_.max_T)
    throw UserError("sequence length " + std::to_string(T) + " exceeds seq_len " +
                    std::to_string(shape_.max_T));
  plan_B_ = B;
  plan_T_ = T;
  const size_t BT = static_cast<size_t>(B) * T, d = shape_.d, V = shape_.vocab;
  std::vector<std::pair<float**, size_t>> wants;
  auto want = [&](float** p, size_t n) { wants.emplace_back(p, n); };
  want(&x0_, BT * d);
  if (shape_.dropout > 0) want(&x0d_, BT * d);
  if (stack_.dual_stream) want(&dual_, BT * d), want(&resi_n_, BT * d), want(&g_dual_, BT * d);
  for (auto& s : subs_) plan_sublayer(s, wants, BT);
  want(&h_, BT * d), want(&final_mean_, BT), want(&final_rstd_, BT);
  want(&logits_, BT * V), want(&probs_, BT * V);
  for (auto& g : g_stream_) want(&g, BT * d);
  for (auto& g : g_post_) want(&g, BT * d);
  want(&g_xeff_, BT * d), want(&g_u_, BT * d), want(&g_qkv_, BT * 3 * d);
  want(&g_qkv_n_, BT * 3 * d), want(&g_o_, BT * d), want(&g_h1_, BT * shape_.d_ff);
  want(&g_g_, BT * shape_.d_ff), want(&g_block_, BT * d), want(&g_h_, BT * d);
  size_t total = 0;
  for (auto& w : wants) total += (w.second + 15) / 16 * 16;
  arena_.assign(total, 0.0f);
  size_t offset = 0;
  for (auto& w : wants) {
    *w.first = arena_.data() + offset;
    offset += (w.second + 15) / 16 * 16;
  }
  tokens_.resize(BT);
  targets_.resize(BT);
}

// ---------------------------------------------------------------------------------------------
// Attention sublayer: qkv = u Wqkv^T + b; (q: per-head norms); o = attention(q, k, v);
// F = o Wproj^T + b.

void DecoderLM::attention_forward(Sublayer& s, int B, int T) {
  ParamStore& p = params_;
  const int d = shape_.d, H = shape_.heads, BT = B * T, hd = d / H;
  linear_forward(s.qkv, s.u, p.value(s.w1), p.value(s.b1), BT, d, 3 * d);
  const float* q = s.qkv;
  int stride = 3 * d;
  if (s.recipe.has(PreOp::QKVNorm)) {
    // Gather q, k, v into contiguous [BT*H, hd] rows, then norm each with its own gain.
    for (int part = 0; part < 3; ++part) {
      float* raw = s.qkv_raw + static_cast<size_t>(part) * BT * d;
#pragma omp parallel for
      for (int r = 0; r < BT; ++r)
        std::memcpy(raw + static_cast<size_t>(r) * d,
                    s.qkv + static_cast<size_t>(r) * 3 * d + part * d, d * sizeof(float));
      const NormLayer& n = part == 0 ? s.q_norm : part == 1 ? s.k_norm : s.v_norm;
      n.forward(p, s.qkv_n + static_cast<size_t>(part) * BT * d,
                s.qkv_mean + static_cast<size_t>(part) * BT * H,
                s.qkv_rstd + static_cast<size_t>(part) * BT * H, raw, BT * H);
    }
    q = s.qkv_n;
    stride = d;
  }
  const size_t part_offset = s.recipe.has(PreOp::QKVNorm) ? static_cast<size_t>(BT) * d : d;
  normlab::attention_forward(s.o, s.att, q, q + part_offset, q + 2 * part_offset, stride, B, T, d,
                             H);
  linear_forward(s.f_out, s.o, p.value(s.w2), p.value(s.b2), BT, d, d);
  (void)hd;
}

void DecoderLM::attention_backward(Sublayer& s, float* g_u, const float* g_f, int B, int T) {
  ParamStore& p = params_;
  const int d = shape_.d, H = shape_.heads, BT = B * T;
  const size_t n = static_cast<size_t>(BT) * d;
  zero(g_o_, n);
  linear_backward(g_o_, p.grad(s.w2), p.grad(s.b2), g_f, s.o, p.value(s.w2), BT, d, d);
  zero(g_qkv_, 3 * n);
  if (s.recipe.has(PreOp::QKVNorm)) {
    zero(g_qkv_n_, 3 * n);
    normlab::attention_backward(g_qkv_n_, g_qkv_n_ + n, g_qkv_n_ + 2 * n, g_o_, s.qkv_n,
                                s.qkv_n + n, s.qkv_n + 2 * n, s.att, d, B, T, d, H);
    // g_qkv_ is used as [3][BT, d] here (gradient w.r.t. the raw q, k, v), then interleaved.
    float* g_raw = g_post_[0];  // free during F's backward; holds one part at a time
    for (int part = 0; part < 3; ++part) {
      const NormLayer& nl = part == 0 ? s.q_norm : part == 1 ? s.k_norm : s.v_norm;
      zero(g_raw, n);
      nl.backward(p, g_raw, g_qkv_n_ + part * n, s.qkv_raw + part * n,
                  s.qkv_mean + static_cast<size_t>(part) * BT * H,
                  s.qkv_rstd + static_cast<size_t>(part) * BT * H, BT * H);
#pragma omp parallel for
      for (int r = 0; r < BT; ++r)
        std::memcpy(g_qkv_ + static_cast<size_t>(r) * 3 * d + part * d,
                    g_raw + static_cast<size_t>(r) * d, d * sizeof(float));
    }
  } else {
    normlab::attention_backward(g_qkv_, g_qkv_ + d, g_qkv_ + 2 * d, g_o_, s.qkv, s.qkv + d,
                                s.qkv + 2 * d, s.att, 3 * d, B, T, d, H);
  }
  zero(g_u, n);
  linear_backward(g_u, p.grad(s.w1), p.grad(s.b1), g_qkv_, s.u, p.value(s.w1), BT, d, 3 * d);
}

// MLP sublayer: F = fc2(gelu(fc1(u))).

void DecoderLM::mlp_forward(Sublayer& s, int B, int T) {
  ParamStore& p = params_;
  const int d = shape_.d, ff = shape_.d_ff, BT = B * T;
  linear_forward(s.h1, s.u, p.value(s.w1), p.value(s.b1), BT, d, ff);
  gelu_forward(s.g, s.h1, static_cast<size_t>(BT) * ff);
  linear_forward(s.f_out, s.g, p.value(s.w2), p.value(s.b2), BT, ff, d);
}

void DecoderLM::mlp_backward(Sublayer& s, float* g_u, const float* g_f, int B, int T) {
  ParamStore& p = params_;
  const int d = shape_.d, ff = shape_.d_ff, BT = B * T;
  zero(g_g_, static_cast<size_t>(BT) * ff);
  linear_backward(g_g_, p.grad(s.w2), p.grad(s.b2), g_f, s.g, p.value(s.w2), BT, ff, d);
  zero(g_h1_, static_cast<size_t>(BT) * ff);
  gelu_backward(g_h1_, g_g_, s.h1, static_cast<size_t>(BT) * ff);
  zero(g_u, static_cast<size_t>(BT) * d);
  linear_backward(g_u, p.grad(s.w1), p.grad(s.b1), g_h1_, s.u, p.value(s.w1), BT, d, ff);
}

// ---------------------------------------------------------------------------------------------
// One sublayer, following its recipe (block_description.hpp):
//   x_eff = N_stream(x) or x;  u = [s]([n](x_eff));  y = F(u);  then the POST ops in order.

void DecoderLM::sublayer_forward(Sublayer& s, const float* x, const float* x_block, int B, int T,
                                 int index) {
  ParamStore& p = params_;
  const int BT = B * T;
  const size_t n = static_cast<size_t>(BT) * shape_.d;
  s.x_in = x;
  const float* x_eff = x;
  if (s.norm_stream.width) {
    s.norm_stream.forward(p, s.xs, s.xs_mean, s.xs_rstd, x, BT);
    x_eff = s.xs;
  }
  const float* u = x_eff;
  if (s.norm_in.width) {
    s.norm_in.forward(p, s.un, s.un_mean, s.un_rstd, u, BT);
    u = s.un;
  }
  if (s.us) {  // LayerNorm Scaling: N(x) / sqrt(l) (Sun et al. 2025)
    const float c = 1.0f / std::sqrt(static_cast<float>(s.layer));
#pragma omp parallel for
    for (size_t i = 0; i < n; ++i) s.us[i] = u[i] * c;
    u = s.us;
  }
  s.u = u;
  if (s.is_attention)
    attention_forward(s, B, T);
  else
    mlp_forward(s, B, T);

  const float* v = s.f_out;
  for (size_t j = 0; j < s.recipe.post.size(); ++j) {
    float* out = s.post_out[j];
    switch (s.recipe.post[j]) {
      case PostOp::NormOut:
        s.norm_out.forward(p, out, s.post_mean[j], s.post_rstd[j], v, BT);
        break;
      case PostOp::NormPost:
        s.norm_post.forward(p, out, s.post_mean[j], s.post_rstd[j], v, BT);
        break;
      case PostOp::Dropout:
        if (!out) continue;
        if (training)
          dropout_forward(out, v, shape_.dropout, dropout_seed_, index * 8 + j + 1, n);
        else
          std::memcpy(out, v, n * sizeof(float));
        break;
      case PostOp::Dual:
        add_inplace(dual_, v, n);
        continue;
      case PostOp::Residual:
        residual_forward(out, x_eff, stack_.alpha, v, stack_.dt, n);
        break;
      case PostOp::BlockInput:
        std::memcpy(out, v, n * sizeof(float));
        add_inplace(out, x_block, n);
        break;
    }
    v = out;
  }
  s.x_out = v;
}

// g_out: gradient w.r.t. the sublayer's output stream. Writes (overwrites) g_in, the gradient
// w.r.t. its input stream; B2T's block-input gradient accumulates in g_block_, ResiDual's dual
// stream gradient (constant along the stream: d_{k+1} = d_k + y_k) is read from g_dual_.
void DecoderLM::sublayer_backward(Sublayer& s, float* g_in, const float* g_out, int B, int T,
                                  int index) {
  ParamStore& p = params_;
  const int BT = B * T;
  const size_t n = static_cast<size_t>(BT) * shape_.d;
  const bool has_stream_norm = s.norm_stream.width != 0;
  float* g_xeff = has_stream_norm ? g_xeff_ : g_in;
  zero(g_xeff, n);
  const float* x_eff = has_stream_norm ? s.xs : s.x_in;

  const float* gv = g_out;
  int ping = 0;
  for (size_t jj = s.recipe.post.size(); jj-- > 0;) {
    // Input of op jj: the previous op's output, or F's output.
    const float* v_in = s.f_out;
    for (size_t k = jj; k-- > 0;)
      if (s.post_out[k]) {
        v_in = s.post_out[k];
        break;
      }
    float* next = g_post_[ping];
    switch (s.recipe.post[jj]) {
      case PostOp::NormOut:
      case PostOp::NormPost: {
        const NormLayer& nl = s.recipe.post[jj] == PostOp::NormOut ? s.norm_out : s.norm_post;
        zero(next, n);
        nl.backward(p, next, gv, v_in, s.post_mean[jj], s.post_rstd[jj], BT);
        break;
      }
      case PostOp::Dropout:
        if (!s.post_out[jj]) continue;
        zero(next, n);
        dropout_backward(next, gv, shape_.dropout, dropout_seed_, index * 8 + jj + 1, n);
        break;
      case PostOp::Dual:
#pragma omp parallel for
        for (size_t i = 0; i < n; ++i) next[i] = gv[i] + g_dual_[i];
        break;
      case PostOp::Residual:
        zero(next, n);
        residual_backward(g_xeff, next, gv, stack_.alpha, stack_.dt, n);
        break;
      case PostOp::BlockInput:
        add_inplace(g_block_, gv, n);
        continue;
    }
    gv = next;
    ping ^= 1;
  }
  // F's backward; g_post_[0] may be used as scratch by attention, so move gv out of the way.
  if (gv == g_post_[0]) {
    std::memcpy(g_post_[1], gv, n * sizeof(float));
    gv = g_post_[1];
  }
  if (record_grad_norms) grad_sublayer_output_[index] = std::sqrt(sum_squares(gv, n));
  float* g_u = g_u_;
  if (s.is_attention)
    attention_backward(s, g_u, gv, B, T);
  else
    mlp_backward(s, g_u, gv, B, T);
  if (s.us) scale_inplace(g_u, 1.0f / std::sqrt(static_cast<float>(s.layer)), n);
  if (s.norm_in.width)
    s.norm_in.backward(p, g_xeff, g_u, x_eff, s.un_mean, s.un_rstd, BT);
  else
    add_inplace(g_xeff, g_u, n);
  if (has_stream_norm) {
    zero(g_in, n);
    s.norm_stream.backward(p, g_in, g_xeff, s.x_in, s.xs_mean, s.xs_rstd, BT);
  }
}

// ---------------------------------------------------------------------------------------------

double DecoderLM::forward(const int32_t* tokens, const int32_t* targets, int B, int T,
                          float smoothing) {
  if (B > plan_B_ || T > plan_T_ || B * T > plan_B_ * plan_T_)
    throw std::logic_error("forward: batch larger than planned");
  ParamStore& p = params_;
  B_ = B;
  T_ = T;
  smoothing_ = smoothing;
  const int d = shape_.d, V = shape_.vocab, BT = B * T;
  const size_t n = static_cast<size_t>(BT) * d;
  for (int i = 0; i < BT; ++i)
    if (tokens[i] < 0 || tokens[i] >= V)
      throw UserError("token id " + std::to_string(tokens[i]) + " outside the vocabulary of " +
                      std::to_string(V));
  std::copy(tokens, tokens + BT, tokens_.begin());
  const float* pos = shape_.learned_positions ? p.value(pos_emb_) : sinusoids_.data();
  embedding_forward(x0_, tokens, p.value(tok_emb_), pos, B, T, d, shape_.embed_scale);
  const float* x = x0_;
  if (x0d_) {
    if (training)
      dropout_forward(x0d_, x0_, shape_.dropout, dropout_seed_, 0, n);
    else
      std::memcpy(x0d_, x0_, n * sizeof(float));
    x = x0d_;
  }
  if (dual_) std::memcpy(dual_, x, n * sizeof(float));  // d_0 = x_0 (ResiDual)
  for (size_t i = 0; i < subs_.size(); i += 2) {
    const float* x_block = x;
    sublayer_forward(subs_[i], x, x_block, B, T, static_cast<int>(i));
    sublayer_forward(subs_[i + 1], subs_[i].x_out, x_block, B, T, static_cast<int>(i + 1));
    x = subs_[i + 1].x_out;
  }
  // Output: x_L + N(d_L) (ResiDual), N(x_L), or x_L.
  if (stack_.dual_stream) {
    resi_norm_.forward(p, resi_n_, final_mean_, final_rstd_, dual_, BT);
#pragma omp parallel for
    for (size_t i = 0; i < n; ++i) h_[i] = x[i] + resi_n_[i];
  } else if (stack_.final_norm) {
    final_norm_.forward(p, h_, final_mean_, final_rstd_, x, BT);
  } else {
    std::memcpy(h_, x, n * sizeof(float));
  }
  linear_forward(logits_, h_, p.value(tok_emb_), nullptr, BT, d, V);
  if (!targets) return 0.0;
  std::copy(targets, targets + BT, targets_.begin());
  int count = 0;
  return cross_entropy_forward(probs_, logits_, targets, BT, V, smoothing, &count);
}

void DecoderLM::backward() {
  ParamStore& p = params_;
  const int B = B_, T = T_, d = shape_.d, V = shape_.vocab, BT = B * T;
  const size_t n = static_cast<size_t>(BT) * d;
  float* g_logits = logits_;  // logits are not needed once probs hold the softmax
  cross_entropy_backward(g_logits, probs_, targets_.data(), BT, V, smoothing_, 1.0f);
  zero(g_h_, n);
  linear_backward(g_h_, p.grad(tok_emb_), nullptr, g_logits, h_, p.value(tok_emb_), BT, d, V);

  const float* x_top = subs_.back().x_out;
  if (record_grad_norms) {
    grad_block_input_.assign(shape_.layers, 0.0);
    grad_sublayer_output_.assign(subs_.size(), 0.0);
  }
  float* g = g_stream_[0];
  if (stack_.dual_stream) {
    zero(g_dual_, n);
    resi_norm_.backward(p, g_dual_, g_h_, dual_, final_mean_, final_rstd_, BT);
    std::memcpy(g, g_h_, n * sizeof(float));
  } else if (stack_.final_norm) {
    zero(g, n);
    final_norm_.backward(p, g, g_h_, x_top, final_mean_, final_rstd_, BT);
  } else {
    std::memcpy(g, g_h_, n * sizeof(float));
  }
  int cur = 0;
  for (size_t i = subs_.size(); i > 0; i -= 2) {
    zero(g_block_, n);
    float* g_mid = g_stream_[cur ^ 1];
    sublayer_backward(subs_[i - 1], g_mid, g_stream_[cur], B, T, static_cast<int>(i - 1));
    sublayer_backward(subs_[i - 2], g_stream_[cur], g_mid, B, T, static_cast<int>(i - 2));
    add_inplace(g_stream_[cur], g_block_, n);  // B2T: the block input's extra path
    if (record_grad_norms)
      grad_block_input_[(i - 2) / 2] = std::sqrt(sum_squares(g_stream_[cur], n));
  }
  float* g_x0 = g_stream_[cur];
  if (dual_) add_inplace(g_x0, g_dual_, n);  // d_0 = x_0
  if (x0d_) {
    zero(g_xeff_, n);
    dropout_backward(g_xeff_, g_x0, shape_.dropout, dropout_seed_, 0, n);
    g_x0 = g_xeff_;
  }
  embedding_backward(p.grad(tok_emb_), pos_emb_ >= 0 ? p.grad(pos_emb_) : nullptr, g_x0,
                     tokens_.data(), B, T, d, shape_.embed_scale);
}

}  // namespace normlab
