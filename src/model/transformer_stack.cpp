#include "model/transformer_stack.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/activation.hpp"
#include "kernels/attention.hpp"
#include "kernels/dropout.hpp"
#include "kernels/linear.hpp"
#include "kernels/residual.hpp"
#include "kernels/sphere.hpp"
#include "kernels/vector_ops.hpp"
#include "model/kv_cache.hpp"
#include "model/sphere_scales.hpp"

namespace normlab {

namespace {

// `rows` rows of `width` floats from `src` (rows `src_stride` apart) to `dst` (`dst_stride`
// apart): q, k or v out of a fused projection, or into a KV cache.
void copy_rows(float* dst, size_t dst_stride, const float* src, size_t src_stride, int rows,
               int width) {
#pragma omp parallel for if (rows >= 64)
  for (int r = 0; r < rows; ++r)
    std::memcpy(dst + r * dst_stride, src + r * src_stride, width * sizeof(float));
}

// SiameseNorm's branch scale 1/sqrt(2l), l the 1-based block (official code:
// c = ((layer_id + 1) * 2) ** 0.5, the same for a block's attention and MLP).
float branch_scale(const Sublayer& s) {
  return 1.0f / std::sqrt(2.0f * static_cast<float>(s.layer));
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
      // The norms each op of the recipe owns (block_ops.cpp), PRE ops before F's weights and
      // POST ops after them, in the table's order.
      auto register_norms = [&](bool pre) {
        for (const OpSpec& spec : block_ops()) {
          if ((spec.place == OpPlace::Pre) != pre || !s.recipe.has(spec.op)) continue;
          for (size_t k = 0; k < spec.norms.size(); ++k) {
            const NormWidth w = spec.norms[k].width;
            const int width = w == NormWidth::Head                                  ? hd
                              : w == NormWidth::Hidden && kind == SublayerKind::MLP ? ff
                                                                                    : d;
            s.at(spec.op).norm[k] = norm(base + "." + spec.norms[k].name, width);
          }
        }
      };
      register_norms(true);
      const bool sphere = s.recipe.has(Op::UnitSublayer);  // nGPT: no biases
      auto bias = [&](const std::string& name, int64_t n) {
        return sphere ? -1L : add(name, {n}, ParamRole::Bias);
      };
      if (kind == SublayerKind::SelfAttention) {
        s.w1 = add(base + ".qkv.weight", {3 * d, d}, ParamRole::Matrix);
        s.b1 = bias(base + ".qkv.bias", 3 * d);
      } else if (kind == SublayerKind::CrossAttention) {
        s.w1 = add(base + ".q.weight", {d, d}, ParamRole::Matrix);
        s.b1 = add(base + ".q.bias", {d}, ParamRole::Bias);
        s.kv = add(base + ".kv.weight", {2 * d, d}, ParamRole::Matrix);
        s.kv_b = add(base + ".kv.bias", {2 * d}, ParamRole::Bias);
      } else {
        s.w1 = add(base + ".fc1.weight", {ff, d}, ParamRole::Matrix);
        s.b1 = bias(base + ".fc1.bias", ff);
      }
      if (s.is_attention()) {
        s.w2 = add(base + ".proj.weight", {d, d}, ParamRole::Matrix);
        s.b2 = bias(base + ".proj.bias", d);
      } else {
        s.w2 = add(base + ".fc2.weight", {d, ff}, ParamRole::Matrix);
        s.b2 = bias(base + ".fc2.bias", d);
      }
      if (sphere) {
        // Every vector along the embedding dimension d on the unit sphere: the rows of the
        // matrix that reads the stream, the columns of the one that writes it (NVIDIA/ngpt
        // train.py normalize_matrices: query/key/value and c_fc along dim 1, att_c_proj and
        // mlp_c_proj along dim 0).
        params_.keep_unit(s.w1, UnitAxis::Rows);
        params_.keep_unit(s.w2, UnitAxis::Columns);
        const SphereScale which = s.is_attention() ? SphereScale::QueryKey : SphereScale::Mlp;
        s.scale = add(base + "." + sphere_scale_name(which), {s.is_attention() ? d : ff},
                      ParamRole::Scale);
      }
      if (s.recipe.has(Op::SphereStep))
        s.alpha = add(base + "." + sphere_scale_name(SphereScale::Alpha), {d}, ParamRole::Scale);
      // Admin's omega: a gain on the shortcut, role Norm (starts at 1, no weight decay).
      if (s.recipe.has(Op::ShortcutWeight)) s.omega = add(base + ".omega", {d}, ParamRole::Norm);
      register_norms(false);
      subs_.push_back(std::move(s));
    }
  }
  if (desc_.final_norm) final_norm_ = norm(prefix + "final_norm", d);
  if (desc_.dual_stream) resi_norm_ = norm(prefix + "resi_norm", d);
  if (desc_.dual_input) top_norm_ = norm(prefix + "top_norm", d);
}

// ---------------------------------------------------------------------------------------------
// Memory plan: every buffer the forward saves and the backward needs.

void TransformerStack::plan_sublayer(Sublayer& s, MemoryPlan& plan, size_t BT, size_t BS) const {
  const size_t d = shape_.d, H = shape_.heads;
  auto want = [&](float** p, size_t n) { plan.want(p, n); };
  const bool cross = s.kind == SublayerKind::CrossAttention;
  if (s.is_attention()) {
    want(&s.proj, BT * (cross ? d : 3 * d));
    if (cross) want(&s.mem_kv, BS * 2 * d);
    want(&s.o, BT * d), want(&s.lse, BT * H), want(&s.entropy, BT * H);
  } else {
    want(&s.h1, BT * shape_.d_ff);
  }
  // What each op of the recipe keeps for the backward, as its row in block_ops.cpp says. Parts
  // beyond the first are k and v, which cross-attention takes from the memory.
  auto aliased = [&](const OpSpec& spec) {
    return (spec.saves & kAliasWithoutDropout) && shape_.dropout == 0;
  };
  for (const auto* ops : {&s.recipe.pre, &s.recipe.post})
    for (Op op : *ops) {
      const OpSpec& spec = op_spec(op);
      if (aliased(spec)) continue;
      OpState& st = s.at(op);
      const size_t parts = std::max<size_t>(1, spec.norms.size());
      for (size_t part = 0; part < parts; ++part) {
        const size_t rows = part > 0 && cross ? BS : BT;
        const size_t groups =
            !spec.norms.empty() && spec.norms[part].width == NormWidth::Head ? H : 1;
        if (spec.saves & kSavesInput) want(&st.in[part], rows * d);
        if (spec.saves & kSavesOutput) want(&st.out[part], rows * d);
        if (spec.saves & kSavesStats)
          want(&st.mean[part], rows * groups), want(&st.rstd[part], rows * groups);
      }
    }
  // nGPT ('u'): attention's unit q and k [rows, d] with 1/norm per row and head, or the MLP's
  // fc1 output before s_v [rows, d_ff]; 'h': Norm(x), Norm(y) and the three 1/norms per row.
  if (s.recipe.has(Op::UnitSublayer)) {
    OpState& st = s.at(Op::UnitSublayer);
    if (s.is_attention())
      for (int part = 0; part < 2; ++part) want(&st.in[part], BT * d), want(&st.rstd[part], BT * H);
    else
      want(&st.in[0], BT * shape_.d_ff);
  }
  if (s.recipe.has(Op::SphereStep)) {
    OpState& st = s.at(Op::SphereStep);
    want(&st.in[0], BT * d), want(&st.in[1], BT * d);
    for (auto& r : st.rstd) want(&r, BT);
  }
  // F(u) is the input of the first POST op that has a buffer of its own; the ops before it are
  // aliases. It is kept only if that op reads its input in the backward (a norm).
  s.saves_f_out = false;
  for (Op op : s.recipe.post) {
    const OpSpec& spec = op_spec(op);
    if (!(spec.saves & kSavesOutput) || aliased(spec)) continue;
    s.saves_f_out = (spec.saves & kReadsInput) != 0;
    break;
  }
  if (s.saves_f_out) want(&s.f_out, BT * d);
}

void TransformerStack::plan(MemoryPlan& plan, size_t rows_planned, size_t memory_rows) {
  const size_t BT = rows_planned, BS = memory_rows;
  const size_t d = shape_.d, ff = shape_.d_ff, rows = std::max(BT, BS);
  auto want = [&](float** p, size_t n) { plan.want(p, n); };
  want(&out_.h, BT * d), want(&out_.mean[0], BT), want(&out_.rstd[0], BT);
  if (desc_.dual_stream) {
    want(&dual_, BT * d), want(&g_dual_, BT * d);
    want(&out_.resi_n, BT * d), want(&out_.mean[1], BT), want(&out_.rstd[1], BT);
  }
  if (desc_.dual_input) want(&out_.sum, BT * d), want(&out_.mean[2], BT), want(&out_.rstd[2], BT);
  bool input_buffer = false, stream_norm = false, qkv_norm = false, block_input = false,
       inner_input = false;
  for (auto& s : subs_) {
    plan_sublayer(s, plan, BT, BS);
    input_buffer |= s.recipe.needs(kSharedInput);
    inner_input |= s.recipe.needs(kInnerInput);
    stream_norm |= s.recipe.needs(kStreamGradient);
    qkv_norm |= s.recipe.needs(kPerHeadGradient);
    block_input |= s.recipe.needs(kBlockGradient);
  }
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
  if (inner_input) want(&inner_, BT * std::max(d, ff));
}

// ---------------------------------------------------------------------------------------------
// Attention sublayer (Vaswani et al. 2017):
//   self:  [q | k | v] = u Wqkv^T + b                     (causal unless an encoder)
//   cross: q = u Wq^T + bq,  [k | v] = m Wkv^T + bkv      (m: the encoder output)
//   'q' letter (HybridNorm, Zhuo et al. 2025): q, k, v each normalised per head, inside F;
//   'Q' letter (OLMo-2, OLMo et al. 2025): q = N_q(u Wq), k = N_k(u Wk) over all of d, before
//   the head split (in place in the projection; v unchanged);
//   'u' letter (nGPT, Loshchilov et al. 2024, eq. 15-16): no biases; q = s_qk Norm(u Wq),
//   k = s_qk Norm(u Wk) per head, and softmax(q k^T sqrt(hd)) in place of / sqrt(hd);
//   o = softmax(q k^T / sqrt(hd) + mask) v per head;  F = o Wproj^T + bproj, or with the 'i'
//   letter (Sub-LN, Wang et al. 2022, "Foundation Transformers"; torchscale inner_attn_ln)
//   F = N_inner(o) Wproj^T + bproj, o being the concatenated heads [rows, d].

// Where q, k and v are in the projections: self-attention's fused qkv [rows, 3d]; cross-attention's
// q [rows, d] and the memory's k | v [memory_rows, 2d].
TransformerStack::QKVSource TransformerStack::qkv_source(const Sublayer& s, int rows,
                                                         int memory_rows) const {
  const int d = shape_.d;
  if (s.kind == SublayerKind::SelfAttention)
    return {{s.proj, s.proj + d, s.proj + 2 * d}, {3 * d, 3 * d, 3 * d}, {rows, rows, rows}};
  return {{s.proj, s.mem_kv, s.mem_kv ? s.mem_kv + d : nullptr},
          {d, 2 * d, 2 * d},
          {rows, memory_rows, memory_rows}};
}

// Each part's rows are H rows of width hd for its per-head norm.
void TransformerStack::normalize_part(const Sublayer& s, QKVSource& src, int part) const {
  const int d = shape_.d, rows = src.rows[part];
  const OpState& qn = s.at(Op::QKVNorm);
  copy_rows(qn.in[part], d, src.base[part], src.stride[part], rows, d);
  qn.norm[part].forward(params_, qn.out[part], qn.mean[part], qn.rstd[part], qn.in[part],
                        rows * shape_.heads);
  src.base[part] = qn.out[part];
  src.stride[part] = d;
}

void TransformerStack::normalize_projection(const Sublayer& s, float* base, int stride, int part,
                                            int rows) const {
  const int d = shape_.d;
  const OpState& qk = s.at(Op::QKProjNorm);
  copy_rows(qk.in[part], d, base, stride, rows, d);
  qk.norm[part].forward(params_, qk.out[part], qk.mean[part], qk.rstd[part], qk.in[part], rows);
  copy_rows(base, stride, qk.out[part], d, rows, d);
}

void TransformerStack::unit_queries_keys(const Sublayer& s, int rows) const {
  const int d = shape_.d, H = shape_.heads, hd = d / H;
  const OpState& st = s.at(Op::UnitSublayer);
  const float* theta = params_.value(s.scale);
  const float c = sphere_scale_factor(SphereScale::QueryKey, d);
  for (int part = 0; part < 2; ++part) {
    float* base = s.proj + part * d;
    copy_rows(st.in[part], d, base, 3 * d, rows, d);
    unit_rows_forward(st.in[part], st.rstd[part], st.in[part], static_cast<size_t>(rows) * H, hd);
    const float extra = part == 0 ? static_cast<float>(hd) : 1.0f;
#pragma omp parallel for if (rows >= 64)
    for (int r = 0; r < rows; ++r)
      for (int j = 0; j < d; ++j)
        base[static_cast<size_t>(r) * 3 * d + j] =
            st.in[part][static_cast<size_t>(r) * d + j] * theta[j] * c * extra;
  }
}

// q' = e s qn (e = hd for q, 1 for k; s = theta c):  dtheta += c e sum_r g' qn,
// dqn = e s g',  dq = Norm's backward per head.
void TransformerStack::unit_queries_keys_backward(const Sublayer& s) {
  const int d = shape_.d, H = shape_.heads, hd = d / H, BT = B_ * T_;
  const OpState& st = s.at(Op::UnitSublayer);
  const float* theta = params_.value(s.scale);
  const float c = sphere_scale_factor(SphereScale::QueryKey, d);
  for (int part = 0; part < 2; ++part) {
    float* g = g_proj_ + part * d;
    const float extra = part == 0 ? static_cast<float>(hd) : 1.0f;
    accumulate_column_products(params_.grad(s.scale), g, 3 * d, st.in[part], d, BT, d, c * extra);
#pragma omp parallel for if (BT >= 64)
    for (int r = 0; r < BT; ++r)
      for (int j = 0; j < d; ++j)
        g_raw_[static_cast<size_t>(r) * d + j] =
            g[static_cast<size_t>(r) * 3 * d + j] * theta[j] * c * extra;
    unit_rows_backward(g_raw_, g_raw_, st.in[part], st.rstd[part], static_cast<size_t>(BT) * H, hd);
    copy_rows(g, 3 * d, g_raw_, d, BT, d);
  }
}

void TransformerStack::memory_keys_values(const Sublayer& s, const float* memory,
                                          QKVSource& src) const {
  const int d = shape_.d;
  linear_forward(s.mem_kv, memory, params_.value(s.kv), params_.value(s.kv_b), src.rows[1], d,
                 2 * d);
  if (s.recipe.has(Op::QKProjNorm)) normalize_projection(s, s.mem_kv, 2 * d, 1, src.rows[1]);
  if (s.recipe.has(Op::QKVNorm))
    for (int part = 1; part < 3; ++part) normalize_part(s, src, part);
}

// Attention of B sequences of T queries over keys of the same batch: T causal ones (self, unless
// an encoder) or the S positions of the encoder output (cross). Strides are the caller's.
AttentionDims TransformerStack::batch_attention_dims(const Sublayer& s, int B, int T, int S,
                                                     const int32_t* key_len,
                                                     const int32_t* memory_len) const {
  const bool cross = s.kind == SublayerKind::CrossAttention;
  AttentionDims dims;
  dims.B = B, dims.H = shape_.heads, dims.d = shape_.d, dims.Tq = T;
  dims.Tk = cross ? S : T;
  dims.causal = !cross && desc_.role != StackRole::Encoder;
  dims.key_len = cross ? memory_len : key_len;
  return dims;
}

void TransformerStack::attention_forward(Sublayer& s, const Pass& pass) const {
  ParamStore& p = params_;
  const int d = shape_.d, rows = pass.rows;
  const bool cross = s.kind == SublayerKind::CrossAttention;
  linear_forward(s.proj, s.u, p.value(s.w1), p.value_if(s.b1), rows, d, cross ? d : 3 * d);
  QKVSource src = qkv_source(s, rows, cross ? pass.B * pass.S : 0);
  if (cross && !pass.cache) memory_keys_values(s, pass.memory, src);
  if (s.recipe.has(Op::UnitSublayer)) unit_queries_keys(s, rows);
  if (s.recipe.has(Op::QKProjNorm)) {
    normalize_projection(s, s.proj, cross ? d : 3 * d, 0, rows);
    if (!cross) normalize_projection(s, s.proj + d, 3 * d, 1, rows);
  }
  if (s.recipe.has(Op::QKVNorm))
    for (int part = 0; part < (cross ? 1 : 3); ++part) normalize_part(s, src, part);

  AttentionDims dims =
      batch_attention_dims(s, pass.B, pass.T, pass.S, pass.key_len, pass.memory_len);
  dims.q_stride = src.stride[0], dims.kv_stride = src.stride[1];
  const float *k = src.base[1], *v = src.base[2];
  if (pass.cache && !cross) {  // a step: append this position's k and v, attend over the cache
    KVCache& c = *pass.cache;
    const size_t span = static_cast<size_t>(c.capacity()) * d;  // floats per cached row
    float *K = c.keys(s.layer - 1), *V = c.values(s.layer - 1);
    copy_rows(K + static_cast<size_t>(pass.pos) * d, span, k, src.stride[1], rows, d);
    copy_rows(V + static_cast<size_t>(pass.pos) * d, span, v, src.stride[2], rows, d);
    k = K, v = V;
    dims.Tk = pass.pos + 1, dims.causal = false;  // T = 1: the new position sees every key
    dims.kv_stride = d, dims.kv_batch_stride = static_cast<long>(span);
  } else if (pass.cache) {  // a step's cross-attention: each row's source, from set_memory
    KVCache& c = *pass.cache;
    k = c.memory_keys(s.layer - 1), v = c.memory_values(s.layer - 1);
    dims.Tk = c.memory_S;
    dims.kv_stride = d;  // batch stride Tk * d: the cache's sources are back to back
    dims.kv_batch = c.row_source.data(), dims.key_len = c.memory_len.data();
  }
  normlab::attention_forward(s.o, s.lse, pass.probes ? s.entropy : nullptr, src.base[0], k, v,
                             dims);
  linear_forward(s.f_out, inner_norm(s, s.o, pass.inner, rows), p.value(s.w2), p.value_if(s.b2),
                 rows, d, d);
}

void TransformerStack::attention_backward(Sublayer& s, float* g_u, const float* g_f) {
  ParamStore& p = params_;
  const int d = shape_.d, H = shape_.heads, BT = B_ * T_, BS = B_ * S_;
  const bool cross = s.kind == SublayerKind::CrossAttention;
  linear_backward(g_o_, p.grad(s.w2), p.grad_if(s.b2), g_f, inner_norm(s, s.o, inner_, BT),
                  p.value(s.w2), BT, d, d);
  if (s.recipe.has(Op::InnerNorm)) {  // g_o = J_inner^T g_o, in place
    const OpState& in = s.at(Op::InnerNorm);
    in.norm[0].backward(p, g_o_, g_o_, s.o, in.mean[0], in.rstd[0], BT);
  }
  // Gradients w.r.t. the projections, laid out like them: g_proj_ as s.proj, g_kv_ as mem_kv.
  const QKVSource src = qkv_source(s, BT, BS);
  float* g_base[3] = {g_proj_, cross ? g_kv_ : g_proj_ + d, cross ? g_kv_ + d : g_proj_ + 2 * d};
  AttentionDims dims = batch_attention_dims(s, B_, T_, S_, key_len_, memory_len_);
  if (s.recipe.has(Op::QKVNorm)) {
    const OpState& qn = s.at(Op::QKVNorm);
    const size_t rows_max = static_cast<size_t>(std::max(BT, BS)) * d;
    float* g_n[3] = {g_normed_, g_normed_ + rows_max, g_normed_ + 2 * rows_max};
    dims.q_stride = d, dims.kv_stride = d;
    normlab::attention_backward(g_n[0], g_n[1], g_n[2], g_o_, s.o, s.lse, qn.out[0], qn.out[1],
                                qn.out[2], dims);
    for (int part = 0; part < 3; ++part) {
      const int rows = src.rows[part];
      qn.norm[part].backward(p, g_raw_, g_n[part], qn.in[part], qn.mean[part], qn.rstd[part],
                             rows * H);
      copy_rows(g_base[part], src.stride[part], g_raw_, d, rows, d);
    }
  } else {
    dims.q_stride = src.stride[0], dims.kv_stride = src.stride[1];
    normlab::attention_backward(g_base[0], g_base[1], g_base[2], g_o_, s.o, s.lse, src.base[0],
                                src.base[1], src.base[2], dims);
  }
  if (s.recipe.has(Op::QKProjNorm)) {  // q and k back through their norms, in place
    const OpState& qk = s.at(Op::QKProjNorm);
    for (int part = 0; part < 2; ++part) {
      const int rows = src.rows[part];
      copy_rows(g_raw_, d, g_base[part], src.stride[part], rows, d);
      qk.norm[part].backward(p, g_raw_, g_raw_, qk.in[part], qk.mean[part], qk.rstd[part], rows);
      copy_rows(g_base[part], src.stride[part], g_raw_, d, rows, d);
    }
  }
  if (s.recipe.has(Op::UnitSublayer)) unit_queries_keys_backward(s);
  linear_backward(g_u, p.grad(s.w1), p.grad_if(s.b1), g_proj_, s.u, p.value(s.w1), BT, d,
                  cross ? d : 3 * d);
  if (cross) {  // dm += g_kv Wkv, accumulated over every decoder block
    linear_backward(nullptr, p.grad(s.kv), p.grad(s.kv_b), g_kv_, memory_, p.value(s.kv), BS, d,
                    2 * d);
    matmul(g_memory_, g_kv_, p.value(s.kv), BS, d, 2 * d, false, false, 1.0f, 1.0f);
  }
}

const float* TransformerStack::inner_norm(const Sublayer& s, const float* h, float* buffer,
                                          int rows) const {
  if (!s.recipe.has(Op::InnerNorm)) return h;
  const OpState& in = s.at(Op::InnerNorm);
  in.norm[0].forward(params_, buffer, in.mean[0], in.rstd[0], h, rows);
  return buffer;
}

// MLP sublayer: F = fc2(gelu(fc1(u))), with 'i' (Sub-LN; torchscale ffn_layernorm, width d_ff)
// F = fc2(N_inner(gelu(fc1(u)))). Only h1 = fc1(u) is saved; gelu(h1) (and N_inner of it), which
// fc2's weight gradient needs, is recomputed in the backward into one buffer shared by all blocks
// (it saves a [rows, d_ff] buffer per block for one elementwise pass).
// 'u' (nGPT, eq. 20-21, with normlab's GELU MLP in place of SwiGLU: s_v scales what enters the
// nonlinearity): no biases, h1 = (u W1^T) s_v sqrt(d), the product before s_v kept.

namespace {
// m[r, j] = in[r, j] * theta[j] * c over `rows` rows of `width` (m may be in).
void scale_columns(float* m, const float* in, const float* theta, float c, int rows, int width) {
#pragma omp parallel for if (rows >= 64)
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < width; ++j)
      m[static_cast<size_t>(r) * width + j] = in[static_cast<size_t>(r) * width + j] * theta[j] * c;
}
float mlp_scale_factor(int d) {
  return sphere_scale_factor(SphereScale::Mlp, d) * std::sqrt(static_cast<float>(d));
}
}  // namespace

void TransformerStack::mlp_forward(Sublayer& s, const Pass& pass) const {
  ParamStore& p = params_;
  const int d = shape_.d, ff = shape_.d_ff, rows = pass.rows;
  if (s.recipe.has(Op::UnitSublayer)) {
    float* raw = s.at(Op::UnitSublayer).in[0];
    linear_forward(raw, s.u, p.value(s.w1), nullptr, rows, d, ff);
    scale_columns(s.h1, raw, p.value(s.scale), mlp_scale_factor(d), rows, ff);
  } else {
    linear_forward(s.h1, s.u, p.value(s.w1), p.value(s.b1), rows, d, ff);
  }
  gelu_forward(pass.gelu, s.h1, static_cast<size_t>(rows) * ff);
  linear_forward(s.f_out, inner_norm(s, pass.gelu, pass.inner, rows), p.value(s.w2),
                 p.value_if(s.b2), rows, ff, d);
}

void TransformerStack::mlp_backward(Sublayer& s, float* g_u, const float* g_f) {
  ParamStore& p = params_;
  const int d = shape_.d, ff = shape_.d_ff, BT = B_ * T_;
  gelu_forward(gelu_, s.h1, static_cast<size_t>(BT) * ff);
  linear_backward(g_g_, p.grad(s.w2), p.grad_if(s.b2), g_f, inner_norm(s, gelu_, inner_, BT),
                  p.value(s.w2), BT, ff, d);
  if (s.recipe.has(Op::InnerNorm)) {  // back through N_inner, in place
    const OpState& in = s.at(Op::InnerNorm);
    in.norm[0].backward(p, g_g_, g_g_, gelu_, in.mean[0], in.rstd[0], BT);
  }
  float* g_h1 = g_g_;  // in place
  gelu_backward(g_h1, g_g_, s.h1, static_cast<size_t>(BT) * ff);
  if (s.recipe.has(Op::UnitSublayer)) {  // dtheta += c sum_r g_h1 raw;  g_raw = g_h1 theta c
    const float c = mlp_scale_factor(d);
    accumulate_column_products(p.grad(s.scale), g_h1, ff, s.at(Op::UnitSublayer).in[0], ff, BT, ff,
                               c);
    scale_columns(g_h1, g_h1, p.value(s.scale), c, BT, ff);
  }
  linear_backward(g_u, p.grad(s.w1), p.grad_if(s.b1), g_h1, s.u, p.value(s.w1), BT, d, ff);
}

const float* TransformerStack::post_op(const Sublayer& s, size_t j, const float* v, float* out,
                                       const float* x_eff, const float* x_block, float* dual,
                                       float* mean, float* rstd, int rows, bool dropout_on,
                                       uint64_t stream, double* shortcut_ratio) const {
  ParamStore& p = params_;
  const size_t n = static_cast<size_t>(rows) * shape_.d;
  switch (s.recipe.post[j]) {
    case Op::NormOut:  // y = N(y), Peri-LN's output norm
      s.at(Op::NormOut).norm[0].forward(p, out, mean, rstd, v, rows);
      return out;
    case Op::NormPost:  // y = N(y) after the residual: a post-norm
      s.at(Op::NormPost).norm[0].forward(p, out, mean, rstd, v, rows);
      return out;
    case Op::Dropout:
      if (!out) return v;  // p = 0: planned as an alias
      if (dropout_on)
        dropout_forward(out, v, shape_.dropout, dropout_seed, stream, n);
      else
        std::memcpy(out, v, n * sizeof(float));
      return out;
    case Op::DualStream:  // d += y (ResiDual)
      add_inplace(dual, v, n);
      return v;
    case Op::ScaleBranch:  // y = y / sqrt(2l) (SiameseNorm)
      std::memcpy(out, v, n * sizeof(float));
      scale_inplace(out, branch_scale(s), n);
      return out;
    case Op::Residual:  // y = alpha x + dt y
      residual_forward(out, x_eff, desc_.alpha, v, desc_.dt, n);
      return out;
    case Op::SphereStep: {  // y = Norm(Norm(x) + |alpha| (Norm(y) - Norm(x))) (nGPT)
      const OpState& st = s.at(Op::SphereStep);
      sphere_step_forward(out, st.in[0], st.in[1], st.rstd[0], st.rstd[1], st.rstd[2], x_eff, v,
                          p.value(s.alpha), sphere_scale_factor(SphereScale::Alpha, shape_.d),
                          static_cast<size_t>(rows), shape_.d);
      return out;
    }
    case Op::ShortcutWeight: {  // y = alpha omega x + dt y (Admin, Liu et al. 2020, eq. 6)
      float* omega = p.value(s.omega);
      if (shortcut_ratio) {
        // Profiling (Transformer-Clinic, init_type adaptive-profiling): omega_i = r, then
        // r <- sqrt(Var[alpha omega_i x] + Var[dt y]).
        const double r = *shortcut_ratio;
        std::fill(omega, omega + shape_.d, static_cast<float>(r));
        const double shortcut = desc_.alpha * r, branch = desc_.dt;
        *shortcut_ratio = std::sqrt(shortcut * shortcut * population_variance(x_eff, n) +
                                    branch * branch * population_variance(v, n));
      }
      weighted_residual_forward(out, x_eff, omega, desc_.alpha, v, desc_.dt,
                                static_cast<size_t>(rows), shape_.d);
      return out;
    }
    case Op::BlockInput:  // y = y + x_block (B2T)
      std::memcpy(out, v, n * sizeof(float));
      add_inplace(out, x_block, n);
      return out;
    default:  // PRE ops never stand after '|' (block_description.cpp)
      break;
  }
  return v;
}

// SiameseNorm (Li et al. 2026, arXiv 2602.08064; official code Qwen-Applications/SiameseNorm):
// F reads x_eff + N_dual(d), d the dual stream before this sublayer adds to it, then 'n'
// normalises the sum: u = N_in(N_post(x) + N_pre(y)) in the paper's names. The sum is saved (the
// input of 'n''s backward) and so is d (the input of N_dual's backward), since 't' changes d.
const float* TransformerStack::read_dual_stream(const Sublayer& s, const float* x_eff,
                                                const float* dual, int rows) const {
  const size_t n = static_cast<size_t>(rows) * shape_.d;
  const OpState& di = s.at(Op::DualInput);
  std::memcpy(di.in[0], dual, n * sizeof(float));
  di.norm[0].forward(params_, di.out[0], di.mean[0], di.rstd[0], di.in[0], rows);
  add_inplace(di.out[0], x_eff, n);
  return di.out[0];
}

// u = [s]([n](x_eff)) into `buffer` (LayerNorm Scaling: N(x) / sqrt(l), Sun et al. 2025), or
// x_eff itself. The backward calls it again instead of saving u per sublayer: one norm pass
// replaces a [rows, d] buffer per sublayer, and the recomputed u is bit-identical.
const float* TransformerStack::sublayer_input(const Sublayer& s, const float* x_eff, float* buffer,
                                              int rows) const {
  const size_t n = static_cast<size_t>(rows) * shape_.d;
  const float* u = x_eff;
  if (s.recipe.has(Op::Norm)) {
    const OpState& n_in = s.at(Op::Norm);
    n_in.norm[0].forward(params_, buffer, n_in.mean[0], n_in.rstd[0], x_eff, rows);
    u = buffer;
  }
  if (s.recipe.has(Op::ScaleByDepth)) {
    const float c = 1.0f / std::sqrt(static_cast<float>(s.layer));
#pragma omp parallel for if (n >= 32768)
    for (size_t i = 0; i < n; ++i) buffer[i] = u[i] * c;
    u = buffer;
  }
  return u;
}

// ---------------------------------------------------------------------------------------------
// One sublayer, following its recipe (block_description.hpp, block_ops.hpp):
//   x_eff = N_stream(x) or x;  u = [s]([n](x_eff [+ N_dual(d)]));  y = F(u);  then the POST ops
//   in order.

void TransformerStack::sublayer_forward(Sublayer& s, const Pass& pass, const float* x,
                                        const float* x_block, int index) const {
  const int rows = pass.rows;
  s.x_in = x;
  const float* x_eff = x;
  if (s.recipe.has(Op::NormStream)) {
    const OpState& ns = s.at(Op::NormStream);
    ns.norm[0].forward(params_, ns.out[0], ns.mean[0], ns.rstd[0], x, rows);
    x_eff = ns.out[0];
  }
  const float* f_base =
      s.recipe.has(Op::DualInput) ? read_dual_stream(s, x_eff, pass.dual, rows) : x_eff;
  s.u = sublayer_input(s, f_base, pass.u, rows);
  if (!s.saves_f_out) s.f_out = pass.f;
  if (s.is_attention())
    attention_forward(s, pass);
  else
    mlp_forward(s, pass);
  if (pass.probes) s.f_out_stats = hidden_stats(s.f_out, pass.B, pass.T, shape_.d);

  const float* v = s.f_out;
  const uint64_t stream = dropout_stream_ + static_cast<uint64_t>(index) * 8;
  for (size_t j = 0; j < s.recipe.post.size(); ++j) {
    const OpState& op = s.at(s.recipe.post[j]);
    v = post_op(s, j, v, op.out[0], x_eff, x_block, pass.dual, op.mean[0], op.rstd[0], rows,
                pass.dropout, stream + j + 1, pass.shortcut_ratio);
  }
  s.x_out = v;
}

// g_out: gradient w.r.t. the sublayer's output stream. Writes (overwrites) g_in, the gradient
// w.r.t. its input stream; B2T's block-input gradient accumulates in g_block_. The dual stream's
// gradient is g_dual_: read by 't' (d_{k+1} = d_k + y_k, so constant along the stream in
// ResiDual), and 'D' adds its N_dual^T g_u to it (the gradient w.r.t. d_k below this sublayer).
void TransformerStack::sublayer_backward(Sublayer& s, float* g_in, const float* g_out, int index) {
  ParamStore& p = params_;
  const int BT = B_ * T_;
  const size_t n = static_cast<size_t>(BT) * shape_.d;
  const bool has_stream_norm = s.recipe.has(Op::NormStream);
  const OpState& ns = s.at(Op::NormStream);
  float* g_xeff = has_stream_norm ? g_xeff_ : g_in;
  const float* x_eff = has_stream_norm ? ns.out[0] : s.x_in;
  const uint64_t stream = dropout_stream_ + static_cast<uint64_t>(index) * 8;

  const float* gv = g_out;
  int ping = 0;
  for (size_t jj = s.recipe.post.size(); jj-- > 0;) {
    // Input of op jj: the previous op's output, or F's output.
    const float* v_in = s.f_out;
    for (size_t k = jj; k-- > 0;)
      if (s.at(s.recipe.post[k]).out[0]) {
        v_in = s.at(s.recipe.post[k]).out[0];
        break;
      }
    float* next = g_post_[ping];
    const OpState& op = s.at(s.recipe.post[jj]);
    switch (s.recipe.post[jj]) {
      case Op::NormOut:
      case Op::NormPost:
        op.norm[0].backward(p, next, gv, v_in, op.mean[0], op.rstd[0], BT);
        break;
      case Op::Dropout:
        if (!op.out[0]) continue;
        dropout_backward(next, gv, shape_.dropout, dropout_seed, stream + jj + 1, n);
        break;
      case Op::DualStream:
#pragma omp parallel for
        for (size_t i = 0; i < n; ++i) next[i] = gv[i] + g_dual_[i];
        break;
      case Op::ScaleBranch:
        std::memcpy(next, gv, n * sizeof(float));
        scale_inplace(next, branch_scale(s), n);
        break;
      case Op::Residual:  // g_xeff = alpha gv (the shortcut; completed below), next = dt gv
        residual_backward(g_xeff, next, gv, desc_.alpha, desc_.dt, n);
        break;
      case Op::SphereStep:  // g_xeff: the shortcut's whole gradient; next: the branch's
        sphere_step_backward(g_xeff, next, p.grad(s.alpha), gv, op.out[0], op.in[0], op.in[1],
                             op.rstd[0], op.rstd[1], op.rstd[2], p.value(s.alpha),
                             sphere_scale_factor(SphereScale::Alpha, shape_.d),
                             static_cast<size_t>(BT), shape_.d);
        break;
      case Op::ShortcutWeight:  // g_xeff = alpha omega gv (completed below), next = dt gv
        weighted_residual_backward(g_xeff, next, p.grad(s.omega), gv, x_eff, p.value(s.omega),
                                   desc_.alpha, desc_.dt, static_cast<size_t>(BT), shape_.d);
        break;
      case Op::BlockInput:
        add_inplace(g_block_, gv, n);
        continue;
      default:  // PRE ops never stand after '|'
        continue;
    }
    gv = next;
    ping ^= 1;
  }
  if (record_probes) grad_sublayer_output_[index] = std::sqrt(sum_squares(gv, n));
  const OpState& di = s.at(Op::DualInput);
  const bool dual_input = s.recipe.has(Op::DualInput);
  const float* f_base = dual_input ? di.out[0] : x_eff;
  s.u = sublayer_input(s, f_base, u_, BT);
  float* g_u = g_u_;
  if (s.is_attention())
    attention_backward(s, g_u, gv);
  else
    mlp_backward(s, g_u, gv);
  if (s.recipe.has(Op::ScaleByDepth))
    scale_inplace(g_u, 1.0f / std::sqrt(static_cast<float>(s.layer)), n);
  if (s.recipe.has(Op::Norm)) {
    const OpState& n_in = s.at(Op::Norm);
    n_in.norm[0].backward(p, g_u, g_u, f_base, n_in.mean[0], n_in.rstd[0], BT);
  }
  if (dual_input) {  // g_d += N_dual^T g_u; g_post_ is free once F's backward has run
    di.norm[0].backward(p, g_post_[0], g_u, di.in[0], di.mean[0], di.rstd[0], BT);
    add_inplace(g_dual_, g_post_[0], n);
  }
  // x_eff feeds both the shortcut and the branch: every recipe has its one 'a', 'h' or 'w'
  // (parse_sublayer), so g_xeff holds the shortcut's gradient and the branch's adds to it.
  add_inplace(g_xeff, g_u, n);
  if (has_stream_norm) ns.norm[0].backward(p, g_in, g_xeff, s.x_in, ns.mean[0], ns.rstd[0], BT);
}

// ---------------------------------------------------------------------------------------------

const float* TransformerStack::forward(const float* x0, int B, int T, const int32_t* key_len,
                                       const float* memory, const int32_t* memory_len, int S) {
  B_ = B, T_ = T, S_ = S;
  key_len_ = key_len, memory_ = memory, memory_len_ = memory_len;
  x_in0_ = x0;
  Pass pass;
  pass.rows = B * T, pass.B = B, pass.T = T, pass.S = S;
  pass.key_len = key_len, pass.memory = memory, pass.memory_len = memory_len;
  pass.u = u_, pass.f = f_, pass.gelu = gelu_, pass.dual = dual_, pass.inner = inner_;
  pass.dropout = training, pass.probes = record_probes;
  double ratio = 1.0;  // Admin: omega_1 = 1
  if (profile_shortcuts) pass.shortcut_ratio = &ratio;
  const float* x = run_blocks(pass, x0, subs_);
  stack_output(out_, x, dual_, B * T);
  return out_.h;
}

// x_block is the block's input (B2T); d_0 = x_0 starts the dual stream (ResiDual's d,
// SiameseNorm's y).
const float* TransformerStack::run_blocks(const Pass& pass, const float* x0,
                                          std::vector<Sublayer>& subs) const {
  const size_t n = static_cast<size_t>(pass.rows) * shape_.d;
  if (desc_.dual_stream) std::memcpy(pass.dual, x0, n * sizeof(float));
  const float* x = x0;
  for (size_t i = 0; i < subs.size(); i += per_block_) {
    const float* x_block = x;
    for (size_t k = i; k < i + per_block_; ++k) {
      sublayer_forward(subs[k], pass, x, x_block, static_cast<int>(k));
      x = subs[k].x_out;
    }
  }
  return x;
}

// SiameseNorm's output (official code: ln_final_f(ln_f(x) + ln_y_f(y))) normalises both streams
// before adding them; ResiDual's adds the normalised dual stream to the post stream.
void TransformerStack::stack_output(const OutputBuffers& out, const float* x, const float* dual,
                                    int rows) const {
  const size_t n = static_cast<size_t>(rows) * shape_.d;
  float* h = out.h;
  if (desc_.dual_stream)
    resi_norm_.forward(params_, out.resi_n, out.mean[1], out.rstd[1], dual, rows);
  if (desc_.dual_input) {
    top_norm_.forward(params_, out.sum, out.mean[2], out.rstd[2], x, rows);
    add_inplace(out.sum, out.resi_n, n);
    x = out.sum;
  } else if (desc_.dual_stream) {
#pragma omp parallel for if (n >= 32768)
    for (size_t i = 0; i < n; ++i) h[i] = x[i] + out.resi_n[i];
    return;
  }
  if (desc_.final_norm)
    final_norm_.forward(params_, h, out.mean[0], out.rstd[0], x, rows);
  else
    std::memcpy(h, x, n * sizeof(float));
}

void TransformerStack::stack_output_backward(float* g_x, const float* g_output) {
  ParamStore& p = params_;
  const int BT = B_ * T_;
  const size_t n = static_cast<size_t>(BT) * shape_.d;
  const float* x_final = desc_.dual_input ? out_.sum : top();  // the final norm's input
  const float* g = g_output;
  if (desc_.final_norm) {
    final_norm_.backward(p, g_x, g_output, x_final, out_.mean[0], out_.rstd[0], BT);
    g = g_x;
  } else if (g_x != g_output) {
    std::memcpy(g_x, g_output, n * sizeof(float));
    g = g_x;
  }
  // h = x_L + N_resi(d_L) or N_top(x_L) + N_resi(d_L) (before the final norm): g reaches both.
  if (desc_.dual_stream) resi_norm_.backward(p, g_dual_, g, dual_, out_.mean[1], out_.rstd[1], BT);
  if (desc_.dual_input) top_norm_.backward(p, g_x, g, top(), out_.mean[2], out_.rstd[2], BT);
}

void TransformerStack::backward(float* g_x0, const float* g_output, float* g_memory) {
  const int BT = B_ * T_;
  const size_t n = static_cast<size_t>(BT) * shape_.d;
  g_memory_ = g_memory;
  if (record_probes) {
    grad_block_input_.assign(desc_.layers, 0.0);
    grad_sublayer_output_.assign(subs_.size(), 0.0);
  }
  stack_output_backward(g_stream_[0], g_output);
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
