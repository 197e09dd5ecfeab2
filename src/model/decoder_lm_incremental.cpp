// Incremental decoding: one new position against a KV cache. This mirrors forward() /
// sublayer_forward() in decoder_lm.cpp for a single row (B = T = 1, eval mode): the recipe's PRE
// ops, F, then every POST op in order, with ResiDual's dual stream and B2T's block input. Only
// attention couples positions, and its keys/values of earlier positions are read from the cache,
// so the logits equal those of the full forward at the same position (tests/model/
// test_kv_cache.cpp).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "decode/kv_cache.hpp"
#include "kernels/activation.hpp"
#include "kernels/embedding.hpp"
#include "kernels/linear.hpp"
#include "kernels/residual.hpp"
#include "model/decoder_lm.hpp"

namespace normlab {

namespace {

// Single-query causal attention over positions [0, pos] of the cache (Vaswani et al. 2017):
//   o_h = sum_t softmax_t(q_h . k_h[t] / sqrt(hd)) v_h[t],  per head h.
// Max-subtracted softmax, as kernels/attention.cpp.
void attend_one(float* o, float* scores, const float* q, const float* K, const float* V, int pos,
                int d, int H) {
  const int hd = d / H;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  for (int h = 0; h < H; ++h) {
    const float* qh = q + h * hd;
    float mx = -INFINITY;
    for (int t = 0; t <= pos; ++t) {
      const float* kt = K + static_cast<size_t>(t) * d + h * hd;
      float dot = 0.0f;
      for (int c = 0; c < hd; ++c) dot += qh[c] * kt[c];
      scores[t] = dot * scale;
      mx = std::max(mx, scores[t]);
    }
    float sum = 0.0f;
    for (int t = 0; t <= pos; ++t) {
      scores[t] = std::exp(scores[t] - mx);
      sum += scores[t];
    }
    const float inv = 1.0f / sum;
    float* oh = o + h * hd;
    std::fill(oh, oh + hd, 0.0f);
    for (int t = 0; t <= pos; ++t) {
      const float w = scores[t] * inv;
      const float* vt = V + static_cast<size_t>(t) * d + h * hd;
      for (int c = 0; c < hd; ++c) oh[c] += w * vt[c];
    }
  }
}

}  // namespace

const float* DecoderLM::forward_next(int32_t token, int pos, KVCache& cache) {
  ParamStore& p = params_;
  const int d = shape_.d, H = shape_.heads, V = shape_.vocab;
  if (token < 0 || token >= V)
    throw UserError("token id " + std::to_string(token) + " outside the vocabulary of " +
                    std::to_string(V));
  if (pos < 0 || pos > cache.length() || pos >= cache.capacity() || pos >= shape_.max_T)
    throw std::logic_error("forward_next: position " + std::to_string(pos) +
                           " not appendable to a cache of length " +
                           std::to_string(cache.length()));
  KVCache::Scratch& sc = cache.scratch;
  float* mean = sc.mean.data();
  float* rstd = sc.rstd.data();

  // x_0 = scale * E[token] + P[pos]; dropout is the identity at inference.
  const float* pos_table = shape_.learned_positions ? p.value(pos_emb_) : sinusoids_.data();
  embedding_forward(sc.x0.data(), &token, p.value(tok_emb_),
                    pos_table + static_cast<size_t>(pos) * d, 1, 1, d, shape_.embed_scale);
  float* dual = sc.dual.data();
  if (stack_.dual_stream) std::memcpy(dual, sc.x0.data(), d * sizeof(float));  // d_0 = x_0

  const float* x = sc.x0.data();
  const float* x_block = x;
  for (size_t i = 0; i < subs_.size(); ++i) {
    const Sublayer& s = subs_[i];
    if (i % 2 == 0) x_block = x;
    // PRE: x_eff = N_stream(x) or x;  u = [s]([n](x_eff)).
    const float* x_eff = x;
    if (s.norm_stream.width) {
      s.norm_stream.forward(p, sc.xs.data(), mean, rstd, x, 1);
      x_eff = sc.xs.data();
    }
    const float* u = x_eff;
    if (s.norm_in.width) {
      s.norm_in.forward(p, sc.un.data(), mean, rstd, u, 1);
      u = sc.un.data();
    }
    if (s.recipe.has(PreOp::ScaleByDepth)) {  // N(x) / sqrt(l) (Sun et al. 2025)
      const float c = 1.0f / std::sqrt(static_cast<float>(s.layer));
      for (int k = 0; k < d; ++k) sc.us[k] = u[k] * c;
      u = sc.us.data();
    }
    // F(u).
    if (s.is_attention) {
      float* qkv = sc.qkv.data();
      linear_forward(qkv, u, p.value(s.w1), p.value(s.b1), 1, d, 3 * d);
      if (s.recipe.has(PreOp::QKVNorm)) {
        // Per-head norms: each part is H rows of width hd, as in attention_forward.
        for (int part = 0; part < 3; ++part) {
          std::memcpy(sc.q_raw.data(), qkv + part * d, d * sizeof(float));
          const NormLayer& nl = part == 0 ? s.q_norm : part == 1 ? s.k_norm : s.v_norm;
          nl.forward(p, sc.qkv_n.data() + part * d, mean, rstd, sc.q_raw.data(), H);
        }
        qkv = sc.qkv_n.data();
      }
      const int layer = s.layer - 1;
      float* K = cache.keys(layer);
      float* Vc = cache.values(layer);
      std::memcpy(K + static_cast<size_t>(pos) * d, qkv + d, d * sizeof(float));
      std::memcpy(Vc + static_cast<size_t>(pos) * d, qkv + 2 * d, d * sizeof(float));
      attend_one(sc.o.data(), sc.scores.data(), qkv, K, Vc, pos, d, H);
      linear_forward(sc.f_out.data(), sc.o.data(), p.value(s.w2), p.value(s.b2), 1, d, d);
    } else {
      const int ff = shape_.d_ff;
      linear_forward(sc.h1.data(), u, p.value(s.w1), p.value(s.b1), 1, d, ff);
      gelu_forward(sc.g.data(), sc.h1.data(), static_cast<size_t>(ff));
      linear_forward(sc.f_out.data(), sc.g.data(), p.value(s.w2), p.value(s.b2), 1, ff, d);
    }
    // POST ops in order.
    const float* v = sc.f_out.data();
    for (size_t j = 0; j < s.recipe.post.size(); ++j) {
      float* out = sc.post[i][j].data();
      switch (s.recipe.post[j]) {
        case PostOp::NormOut:
          s.norm_out.forward(p, out, mean, rstd, v, 1);
          break;
        case PostOp::NormPost:
          s.norm_post.forward(p, out, mean, rstd, v, 1);
          break;
        case PostOp::Dropout:
          continue;  // identity at inference
        case PostOp::Dual:
          add_inplace(dual, v, static_cast<size_t>(d));
          continue;
        case PostOp::Residual:
          residual_forward(out, x_eff, stack_.alpha, v, stack_.dt, static_cast<size_t>(d));
          break;
        case PostOp::BlockInput:
          std::memcpy(out, v, d * sizeof(float));
          add_inplace(out, x_block, static_cast<size_t>(d));
          break;
      }
      v = out;
    }
    x = v;
  }
  cache.set_length(pos + 1);

  // Output: x_L + N(d_L) (ResiDual), N(x_L), or x_L; logits tied to the token embedding.
  float* h = sc.h.data();
  if (stack_.dual_stream) {
    resi_norm_.forward(p, sc.resi_n.data(), mean, rstd, dual, 1);
    for (int k = 0; k < d; ++k) h[k] = x[k] + sc.resi_n[k];
  } else if (stack_.final_norm) {
    final_norm_.forward(p, h, mean, rstd, x, 1);
  } else {
    std::memcpy(h, x, d * sizeof(float));
  }
  linear_forward(sc.logits.data(), h, p.value(tok_emb_), nullptr, 1, d, V);
  return sc.logits.data();
}

}  // namespace normlab
