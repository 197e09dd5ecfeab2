#include "model/transformer_stack.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/activation.hpp"
#include "kernels/attention.hpp"
#include "kernels/dropout.hpp"
#include "kernels/linear.hpp"
#include "kernels/residual.hpp"
#include "kernels/vector_ops.hpp"

namespace normlab {

namespace {

// Rows of width `width` at `stride` floats apart <-> contiguous rows (q, k or v of a fused
// projection).
void gather_rows(float* dst, const float* src, int rows, int width, int stride) {
#pragma omp parallel for
  for (int r = 0; r < rows; ++r)
    std::memcpy(dst + static_cast<size_t>(r) * width, src + static_cast<size_t>(r) * stride,
                width * sizeof(float));
}
void scatter_rows(float* dst, const float* src, int rows, int width, int stride) {
#pragma omp parallel for
  for (int r = 0; r < rows; ++r)
    std::memcpy(dst + static_cast<size_t>(r) * stride, src + static_cast<size_t>(r) * width,
                width * sizeof(float));
}

// Where attention's q, k and v come from: self-attention reads one fused projection [BT, 3d];
// cross-attention reads q [BT, d] and the memory's k | v [BS, 2d].
struct QKVSource {
  const float* base[3];
  int stride[3];
  int rows[3];
};
QKVSource qkv_source(const Sublayer& s, int BT, int BS, int d) {
  if (s.kind == SublayerKind::SelfAttention)
    return {{s.proj, s.proj + d, s.proj + 2 * d}, {3 * d, 3 * d, 3 * d}, {BT, BT, BT}};
  return {{s.proj, s.mem_kv, s.mem_kv + d}, {d, 2 * d, 2 * d}, {BT, BS, BS}};
}
}  // namespace

TransformerStack::TransformerStack(ParamStore& params, const ModelShape& shape,
                                   StackDescription description, const std::string& prefix,
                                   uint64_t dropout_stream)
    : params_(params),
      shape_(shape),
      desc_(std::move(description)),
      dropout_stream_(dropout_stream) {
  const int d = shape.d, hd = d / shape.heads, ff = shape.d_ff;
  const bool decoder = desc_.role == StackRole::Decoder;
  per_block_ = decoder ? 3 : 2;
  auto norm = [&](const std::string& name, int width) {
    return NormLayer::create(params_, name, shape_.norm, width, shape_.norm_eps);
  };
  auto add = [&](const std::string& name, std::vector<int64_t> dims, ParamRole role) {
    return static_cast<long>(params_.add(name, std::move(dims), role));
  };
  for (int l = 0; l < desc_.layers; ++l) {
    const BlockRecipe& block = desc_.blocks[l];
    std::vector<SublayerKind> kinds = {SublayerKind::SelfAttention, SublayerKind::MLP};
    if (decoder) kinds.insert(kinds.begin() + 1, SublayerKind::CrossAttention);
    for (SublayerKind kind : kinds) {
      Sublayer s;
      s.kind = kind;
      s.layer = l + 1;
      s.recipe = kind == SublayerKind::SelfAttention    ? block.attn
                 : kind == SublayerKind::CrossAttention ? block.cross
                                                        : block.mlp;
      const std::string base = prefix + "blocks." + std::to_string(l) + "." + s.name();
      if (s.recipe.has(PreOp::NormStream)) s.norm_stream = norm(base + ".norm_stream", d);
      if (s.recipe.has(PreOp::Norm)) s.norm_in = norm(base + ".norm_in", d);
      if (s.recipe.has(PreOp::QKVNorm)) {
        s.q_norm = norm(base + ".q_norm", hd);
        s.k_norm = norm(base + ".k_norm", hd);
        s.v_norm = norm(base + ".v_norm", hd);
      }
      if (kind == SublayerKind::SelfAttention) {
        s.w1 = add(base + ".qkv.weight", {3 * d, d}, ParamRole::Matrix);
        s.b1 = add(base + ".qkv.bias", {3 * d}, ParamRole::Bias);
      } else if (kind == SublayerKind::CrossAttention) {
        s.w1 = add(base + ".q.weight", {d, d}, ParamRole::Matrix);
        s.b1 = add(base + ".q.bias", {d}, ParamRole::Bias);
        s.kv = add(base + ".kv.weight", {2 * d, d}, ParamRole::Matrix);
        s.kv_b = add(base + ".kv.bias", {2 * d}, ParamRole::Bias);
      } else {
        s.w1 = add(base + ".fc1.weight", {ff, d}, ParamRole::Matrix);
        s.b1 = add(base + ".fc1.bias", {ff}, ParamRole::Bias);
      }
      if (s.is_attention()) {
        s.w2 = add(base + ".proj.weight", {d, d}, ParamRole::Matrix);
        s.b2 = add(base + ".proj.bias", {d}, ParamRole::Bias);
      } else {
        s.w2 = add(base + ".fc2.weight", {d, ff}, ParamRole::Matrix);
        s.b2 = add(base + ".fc2.bias", {d}, ParamRole::Bias);
      }
      if (s.recipe.has(PostOp::NormOut)) s.norm_out = norm(base + ".norm_out", d);
      if (s.recipe.has(PostOp::NormPost)) s.norm_post = norm(base + ".norm_post", d);
      subs_.push_back(std::move(s));
    }
  }
  if (desc_.final_norm) final_norm_ = norm(prefix + "final_norm", d);
  if (desc_.dual_stream) resi_norm_ = norm(prefix + "resi_norm", d);
}

// ---------------------------------------------------------------------------------------------
// Memory plan: every buffer the forward saves and the backward needs.

void TransformerStack::plan_sublayer(Sublayer& s, MemoryPlan& plan, size_t BT, size_t BS) {
  const size_t d = shape_.d, H = shape_.heads;
  auto want = [&](float** p, size_t n) { plan.want(p, n); };
  if (s.norm_stream.width) want(&s.xs, BT * d), want(&s.xs_mean, BT), want(&s.xs_rstd, BT);
  if (s.norm_in.width) want(&s.un_mean, BT), want(&s.un_rstd, BT);
  if (s.is_attention()) {
    const bool cross = s.kind == SublayerKind::CrossAttention;
    want(&s.proj, BT * (cross ? d : 3 * d));
    if (cross) want(&s.mem_kv, BS * 2 * d);
    if (s.recipe.has(PreOp::QKVNorm))
      for (int part = 0; part < 3; ++part) {
        const size_t rows = part == 0 || !cross ? BT : BS;
        want(&s.raw[part], rows * d), want(&s.normed[part], rows * d);
        want(&s.part_mean[part], rows * H), want(&s.part_rstd[part], rows * H);
      }
    want(&s.o, BT * d), want(&s.lse, BT * H), want(&s.entropy, BT * H);
  } else {
    want(&s.h1, BT * shape_.d_ff);
  }
  // F(u) is the input of the first POST op that has a buffer of its own; the ops before it are
  // aliases. Only a norm reads its input in the backward.
  s.saves_f_out = false;
  for (PostOp op : s.recipe.post) {
    if (op == PostOp::Dual || (op == PostOp::Dropout && shape_.dropout == 0)) continue;
    s.saves_f_out = op == PostOp::NormOut || op == PostOp::NormPost;
    break;
  }
  if (s.saves_f_out) want(&s.f_out, BT * d);
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

void TransformerStack::plan(MemoryPlan& plan, size_t rows_planned, size_t memory_rows) {
  const size_t BT = rows_planned, BS = memory_rows;
  const size_t d = shape_.d, ff = shape_.d_ff, rows = std::max(BT, BS);
  auto want = [&](float** p, size_t n) { plan.want(p, n); };
  if (desc_.dual_stream) want(&dual_, BT * d), want(&resi_n_, BT * d), want(&g_dual_, BT * d);
  bool input_buffer = false, stream_norm = false, qkv_norm = false, block_input = false;
  for (auto& s : subs_) {
    plan_sublayer(s, plan, BT, BS);
    input_buffer |= s.norm_in.width != 0 || s.recipe.has(PreOp::ScaleByDepth);
    stream_norm |= s.norm_stream.width != 0;
    qkv_norm |= s.recipe.has(PreOp::QKVNorm);
    block_input |= s.recipe.has(PostOp::BlockInput);
  }
  want(&h_, BT * d), want(&final_mean_, BT), want(&final_rstd_, BT);
  if (input_buffer) want(&u_, BT * d);
  want(&f_, BT * d);
  // Gradient scratch, shared by all sublayers; what only some recipes use is planned only then.
  for (auto& g : g_stream_) want(&g, BT * d);
  for (auto& g : g_post_) want(&g, BT * d);
  want(&g_u_, BT * d), want(&g_proj_, BT * 3 * d), want(&g_o_, BT * d);
  if (stream_norm) want(&g_xeff_, BT * d);
  if (desc_.role == StackRole::Decoder) want(&g_kv_, BS * 2 * d);
  if (qkv_norm) want(&g_normed_, 3 * rows * d), want(&g_raw_, rows * d);
  if (block_input) want(&g_block_, BT * d);
  want(&g_g_, BT * ff), want(&gelu_, BT * ff);
}

// ---------------------------------------------------------------------------------------------
// Attention sublayer (Vaswani et al. 2017):
//   self:  [q | k | v] = u Wqkv^T + b                     (causal unless an encoder)
//   cross: q = u Wq^T + bq,  [k | v] = m Wkv^T + bkv      (m: the encoder output)
//   'q' letter (HybridNorm, Zhuo et al. 2025): q, k, v each normalised per head;
//   o = softmax(q k^T / sqrt(hd) + mask) v per head;  F = o Wproj^T + bproj.

void TransformerStack::attention_forward(Sublayer& s) {
  ParamStore& p = params_;
  const int d = shape_.d, H = shape_.heads, BT = B_ * T_, BS = B_ * S_;
  const bool cross = s.kind == SublayerKind::CrossAttention;
  linear_forward(s.proj, s.u, p.value(s.w1), p.value(s.b1), BT, d, cross ? d : 3 * d);
  if (cross) linear_forward(s.mem_kv, memory_, p.value(s.kv), p.value(s.kv_b), BS, d, 2 * d);
  QKVSource src = qkv_source(s, BT, BS, d);
  if (s.recipe.has(PreOp::QKVNorm)) {
    for (int part = 0; part < 3; ++part) {
      gather_rows(s.raw[part], src.base[part], src.rows[part], d, src.stride[part]);
      const NormLayer& n = part == 0 ? s.q_norm : part == 1 ? s.k_norm : s.v_norm;
      n.forward(p, s.normed[part], s.part_mean[part], s.part_rstd[part], s.raw[part],
                src.rows[part] * H);
      src.base[part] = s.normed[part];
      src.stride[part] = d;
    }
  }
  AttentionDims dims;
  dims.B = B_, dims.H = H, dims.d = d, dims.Tq = T_;
  dims.Tk = cross ? S_ : T_;
  dims.causal = s.kind == SublayerKind::SelfAttention && desc_.role != StackRole::Encoder;
  dims.key_len = cross ? memory_len_ : key_len_;
  dims.q_stride = src.stride[0], dims.kv_stride = src.stride[1];
  normlab::attention_forward(s.o, s.lse, record_probes ? s.entropy : nullptr, src.base[0],
                             src.base[1], src.base[2], dims);
  linear_forward(s.f_out, s.o, p.value(s.w2), p.value(s.b2), BT, d, d);
}

void TransformerStack::attention_backward(Sublayer& s, float* g_u, const float* g_f) {
  ParamStore& p = params_;
  const int d = shape_.d, H = shape_.heads, BT = B_ * T_, BS = B_ * S_;
  const bool cross = s.kind == SublayerKind::CrossAttention;
  linear_backward(g_o_, p.grad(s.w2), p.grad(s.b2), g_f, s.o, p.value(s.w2), BT, d, d);
  // Gradients w.r.t. the projections, laid out like them: g_proj_ as s.proj, g_kv_ as mem_kv.
  const QKVSource src = qkv_source(s, BT, BS, d);
  float* g_base[3] = {g_proj_, cross ? g_kv_ : g_proj_ + d, cross ? g_kv_ + d : g_proj_ + 2 * d};
  AttentionDims dims;
  dims.B = B_, dims.H = H, dims.d = d, dims.Tq = T_;
  dims.Tk = cross ? S_ : T_;
  dims.causal = s.kind == SublayerKind::SelfAttention && desc_.role != StackRole::Encoder;
  dims.key_len = cross ? memory_len_ : key_len_;
  if (s.recipe.has(PreOp::QKVNorm)) {
    const size_t rows_max = static_cast<size_t>(std::max(BT, BS)) * d;
    float* g_n[3] = {g_normed_, g_normed_ + rows_max, g_normed_ + 2 * rows_max};
    dims.q_stride = d, dims.kv_stride = d;
    normlab::attention_backward(g_n[0], g_n[1], g_n[2], g_o_, s.o, s.lse, s.normed[0], s.normed[1],
                                s.normed[2], dims);
    for (int part = 0; part < 3; ++part) {
      const NormLayer& nl = part == 0 ? s.q_norm : part == 1 ? s.k_norm : s.v_norm;
      const int rows = src.rows[part];
      nl.backward(p, g_raw_, g_n[part], s.raw[part], s.part_mean[part], s.part_rstd[part],
                  rows * H);
      scatter_rows(g_base[part], g_raw_, rows, d, src.stride[part]);
    }
  } else {
    dims.q_stride = src.stride[0], dims.kv_stride = src.stride[1];
    normlab::attention_backward(g_base[0], g_base[1], g_base[2], g_o_, s.o, s.lse, src.base[0],
                                src.base[1], src.base[2], dims);
  }
  linear_backward(g_u, p.grad(s.w1), p.grad(s.b1), g_proj_, s.u, p.value(s.w1), BT, d,
                  cross ? d : 3 * d);
  if (cross) {  // dm += g_kv Wkv, accumulated over every decoder block
    linear_backward(nullptr, p.grad(s.kv), p.grad(s.kv_b), g_kv_, memory_, p.value(s.kv), BS, d,
                    2 * d);
    matmul(g_memory_, g_kv_, p.value(s.kv), BS, d, 2 * d, false, false, 1.0f, 1.0f);
  }
}

// MLP sublayer: F = fc2(gelu(fc1(u))). Only h1 = fc1(u) is saved; gelu(h1), which fc2's weight
// gradient needs, is recomputed in the backward into one buffer shared by all blocks (it saves a
// [rows, d_ff] buffer per block for one elementwise pass).

void TransformerStack::mlp_forward(Sublayer& s) {
  ParamStore& p = params_;
  const int d = shape_.d, ff = shape_.d_ff, BT = B_ * T_;
  linear_forward(s.h1, s.u, p.value(s.w1), p.value(s.b1), BT, d, ff);
  gelu_forward(gelu_, s.h1, static_cast<size_t>(BT) * ff);
  linear_forward(s.f_out, gelu_, p.value(s.w2), p.value(s.b2), BT, ff, d);
}

void TransformerStack::mlp_backward(Sublayer& s, float* g_u, const float* g_f) {
  ParamStore& p = params_;
  const int d = shape_.d, ff = shape_.d_ff, BT = B_ * T_;
  gelu_forward(gelu_, s.h1, static_cast<size_t>(BT) * ff);
  linear_backward(g_g_, p.grad(s.w2), p.grad(s.b2), g_f, gelu_, p.value(s.w2), BT, ff, d);
  float* g_h1 = g_g_;  // in place
  gelu_backward(g_h1, g_g_, s.h1, static_cast<size_t>(BT) * ff);
  linear_backward(g_u, p.grad(s.w1), p.grad(s.b1), g_h1, s.u, p.value(s.w1), BT, d, ff);
}

const float* TransformerStack::post_op(const Sublayer& s, size_t j, const float* v, float* out,
                                       const float* x_eff, const float* x_block, float* dual,
                                       float* mean, float* rstd, int rows, bool dropout_on,
                                       uint64_t stream) const {
  ParamStore& p = params_;
  const size_t n = static_cast<size_t>(rows) * shape_.d;
  switch (s.recipe.post[j]) {
    case PostOp::NormOut:  // y = N(y), Peri-LN's output norm
      s.norm_out.forward(p, out, mean, rstd, v, rows);
      return out;
    case PostOp::NormPost:  // y = N(y) after the residual: a post-norm
      s.norm_post.forward(p, out, mean, rstd, v, rows);
      return out;
    case PostOp::Dropout:
      if (!out) return v;  // p = 0: planned as an alias
      if (dropout_on)
        dropout_forward(out, v, shape_.dropout, dropout_seed, stream, n);
      else
        std::memcpy(out, v, n * sizeof(float));
      return out;
    case PostOp::Dual:  // d += y (ResiDual)
      add_inplace(dual, v, n);
      return v;
    case PostOp::Residual:  // y = alpha x + dt y
      residual_forward(out, x_eff, desc_.alpha, v, desc_.dt, n);
      return out;
    case PostOp::BlockInput:  // y = y + x_block (B2T)
      std::memcpy(out, v, n * sizeof(float));
      add_inplace(out, x_block, n);
      return out;
  }
  return v;
}

// u = [s]([n](x_eff)) into the shared u_ (LayerNorm Scaling: N(x) / sqrt(l), Sun et al. 2025), or
// x_eff itself. The backward calls it again instead of saving u per sublayer: one norm pass
// replaces a [rows, d] buffer per sublayer, and the recomputed u is bit-identical.
const float* TransformerStack::sublayer_input(const Sublayer& s, const float* x_eff) {
  const int BT = B_ * T_;
  const size_t n = static_cast<size_t>(BT) * shape_.d;
  const float* u = x_eff;
  if (s.norm_in.width) {
    s.norm_in.forward(params_, u_, s.un_mean, s.un_rstd, x_eff, BT);
    u = u_;
  }
  if (s.recipe.has(PreOp::ScaleByDepth)) {
    const float c = 1.0f / std::sqrt(static_cast<float>(s.layer));
#pragma omp parallel for
    for (size_t i = 0; i < n; ++i) u_[i] = u[i] * c;
    u = u_;
  }
  return u;
}

// ---------------------------------------------------------------------------------------------
// One sublayer, following its recipe (block_description.hpp):
//   x_eff = N_stream(x) or x;  u = [s]([n](x_eff));  y = F(u);  then the POST ops in order.

void TransformerStack::sublayer_forward(Sublayer& s, const float* x, const float* x_block,
                                        int index) {
  ParamStore& p = params_;
  const int BT = B_ * T_;
  s.x_in = x;
  const float* x_eff = x;
  if (s.norm_stream.width) {
    s.norm_stream.forward(p, s.xs, s.xs_mean, s.xs_rstd, x, BT);
    x_eff = s.xs;
  }
  s.u = sublayer_input(s, x_eff);
  if (!s.saves_f_out) s.f_out = f_;
  if (s.is_attention())
    attention_forward(s);
  else
    mlp_forward(s);
  if (record_probes) s.f_out_stats = hidden_stats(s.f_out, B_, T_, shape_.d);

  const float* v = s.f_out;
  const uint64_t stream = dropout_stream_ + static_cast<uint64_t>(index) * 8;
  for (size_t j = 0; j < s.recipe.post.size(); ++j)
    v = post_op(s, j, v, s.post_out[j], x_eff, x_block, dual_, s.post_mean[j], s.post_rstd[j], BT,
                training, stream + j + 1);
  s.x_out = v;
}

// g_out: gradient w.r.t. the sublayer's output stream. Writes (overwrites) g_in, the gradient
// w.r.t. its input stream; B2T's block-input gradient accumulates in g_block_, ResiDual's dual
// stream gradient (constant along the stream: d_{k+1} = d_k + y_k) is read from g_dual_.
void TransformerStack::sublayer_backward(Sublayer& s, float* g_in, const float* g_out, int index) {
  ParamStore& p = params_;
  const int BT = B_ * T_;
  const size_t n = static_cast<size_t>(BT) * shape_.d;
  const bool has_stream_norm = s.norm_stream.width != 0;
  float* g_xeff = has_stream_norm ? g_xeff_ : g_in;
  const float* x_eff = has_stream_norm ? s.xs : s.x_in;
  const uint64_t stream = dropout_stream_ + static_cast<uint64_t>(index) * 8;

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
        nl.backward(p, next, gv, v_in, s.post_mean[jj], s.post_rstd[jj], BT);
        break;
      }
      case PostOp::Dropout:
        if (!s.post_out[jj]) continue;
        dropout_backward(next, gv, shape_.dropout, dropout_seed, stream + jj + 1, n);
        break;
      case PostOp::Dual:
#pragma omp parallel for
        for (size_t i = 0; i < n; ++i) next[i] = gv[i] + g_dual_[i];
        break;
      case PostOp::Residual:  // g_xeff = alpha gv (the shortcut; completed below), next = dt gv
        residual_backward(g_xeff, next, gv, desc_.alpha, desc_.dt, n);
        break;
      case PostOp::BlockInput:
        add_inplace(g_block_, gv, n);
        continue;
    }
    gv = next;
    ping ^= 1;
  }
  if (record_probes) grad_sublayer_output_[index] = std::sqrt(sum_squares(gv, n));
  s.u = sublayer_input(s, x_eff);
  float* g_u = g_u_;
  if (s.is_attention())
    attention_backward(s, g_u, gv);
  else
    mlp_backward(s, g_u, gv);
  if (s.recipe.has(PreOp::ScaleByDepth))
    scale_inplace(g_u, 1.0f / std::sqrt(static_cast<float>(s.layer)), n);
  if (s.norm_in.width) s.norm_in.backward(p, g_u, g_u, x_eff, s.un_mean, s.un_rstd, BT);
  // x_eff feeds both the shortcut and the branch: every recipe has its one 'a'
  // (parse_sublayer), so g_xeff holds the shortcut's gradient and the branch's adds to it.
  add_inplace(g_xeff, g_u, n);
  if (has_stream_norm) s.norm_stream.backward(p, g_in, g_xeff, s.x_in, s.xs_mean, s.xs_rstd, BT);
}

// ---------------------------------------------------------------------------------------------

const float* TransformerStack::forward(const float* x0, int B, int T, const int32_t* key_len,
                                       const float* memory, const int32_t* memory_len, int S) {
  ParamStore& p = params_;
  B_ = B, T_ = T, S_ = S;
  key_len_ = key_len, memory_ = memory, memory_len_ = memory_len;
  x_in0_ = x0;
  const int BT = B * T;
  const size_t n = static_cast<size_t>(BT) * shape_.d;
  if (dual_) std::memcpy(dual_, x0, n * sizeof(float));  // d_0 = x_0 (ResiDual)
  const float* x = x0;
  for (size_t i = 0; i < subs_.size(); i += per_block_) {
    const float* x_block = x;
    for (int k = 0; k < per_block_; ++k) {
      sublayer_forward(subs_[i + k], x, x_block, static_cast<int>(i + k));
      x = subs_[i + k].x_out;
    }
  }
  // Output: x_L + N(d_L) (ResiDual), N(x_L), or x_L.
  if (desc_.dual_stream) {
    resi_norm_.forward(p, resi_n_, final_mean_, final_rstd_, dual_, BT);
#pragma omp parallel for
    for (size_t i = 0; i < n; ++i) h_[i] = x[i] + resi_n_[i];
  } else if (desc_.final_norm) {
    final_norm_.forward(p, h_, final_mean_, final_rstd_, x, BT);
  } else {
    std::memcpy(h_, x, n * sizeof(float));
  }
  return h_;
}

void TransformerStack::backward(float* g_x0, const float* g_output, float* g_memory) {
  ParamStore& p = params_;
  const int BT = B_ * T_;
  const size_t n = static_cast<size_t>(BT) * shape_.d;
  g_memory_ = g_memory;
  if (record_probes) {
    grad_block_input_.assign(desc_.layers, 0.0);
    grad_sublayer_output_.assign(subs_.size(), 0.0);
  }
  float* g = g_stream_[0];
  if (desc_.dual_stream) {
    resi_norm_.backward(p, g_dual_, g_output, dual_, final_mean_, final_rstd_, BT);
    std::memcpy(g, g_output, n * sizeof(float));
  } else if (desc_.final_norm) {
    final_norm_.backward(p, g, g_output, top(), final_mean_, final_rstd_, BT);
  } else {
    std::memcpy(g, g_output, n * sizeof(float));
  }
  // The stream gradient ping-pongs between g_stream_[0] and [1]; a block's sublayers run top
  // down, and B2T's block-input path adds its gradient at the block's input.
  int cur = 0;
  for (size_t i = subs_.size(); i > 0; i -= per_block_) {
    if (g_block_) zero(g_block_, n);
    for (int k = per_block_ - 1; k >= 0; --k) {
      sublayer_backward(subs_[i - per_block_ + k], g_stream_[cur ^ 1], g_stream_[cur],
                        static_cast<int>(i - per_block_ + k));
      cur ^= 1;
    }
    if (g_block_) add_inplace(g_stream_[cur], g_block_, n);
    if (record_probes)
      grad_block_input_[(i - per_block_) / per_block_] = std::sqrt(sum_squares(g_stream_[cur], n));
  }
  if (dual_) add_inplace(g_stream_[cur], g_dual_, n);  // d_0 = x_0
  std::memcpy(g_x0, g_stream_[cur], n * sizeof(float));
}

}  // namespace normlab
