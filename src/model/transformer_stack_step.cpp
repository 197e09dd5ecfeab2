// Incremental decoding: `rows` new positions (one per hypothesis, all at position `pos`) against
// a KV cache. This mirrors forward() / sublayer_forward() in transformer_stack.cpp in eval mode:
// the recipe's PRE ops, F, then every POST op in order, with ResiDual's dual stream and B2T's
// block input. Only attention couples positions; keys and values of earlier positions (and of
// the encoded source) are read from the cache, so the output equals the full forward's at the
// same position (tests/model/test_kv_cache.cpp, tests/model/test_encoder_decoder.cpp).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "model/kv_cache.hpp"
#include "kernels/activation.hpp"
#include "kernels/linear.hpp"
#include "model/transformer_stack.hpp"

namespace normlab {

namespace {

// One query per head against n_keys cached rows K, V [n_keys, d] (Vaswani et al. 2017):
//   o_h = sum_t softmax_t(q_h . k_h[t] / sqrt(hd)) v_h[t].
// Max-subtracted softmax, as kernels/attention.cpp.
void attend_one(float* o, float* scores, const float* q, const float* K, const float* V, int n_keys,
                int d, int H) {
  const int hd = d / H;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  for (int h = 0; h < H; ++h) {
    const float* qh = q + h * hd;
    float mx = -INFINITY;
    for (int t = 0; t < n_keys; ++t) {
      const float* kt = K + static_cast<size_t>(t) * d + h * hd;
      float dot = 0.0f;
      for (int c = 0; c < hd; ++c) dot += qh[c] * kt[c];
      scores[t] = dot * scale;
      mx = std::max(mx, scores[t]);
    }
    float sum = 0.0f;
    for (int t = 0; t < n_keys; ++t) {
      scores[t] = std::exp(scores[t] - mx);
      sum += scores[t];
    }
    const float inv = sum > 0 ? 1.0f / sum : 0.0f;
    float* oh = o + h * hd;
    std::fill(oh, oh + hd, 0.0f);
    for (int t = 0; t < n_keys; ++t) {
      const float w = scores[t] * inv;
      const float* vt = V + static_cast<size_t>(t) * d + h * hd;
      for (int c = 0; c < hd; ++c) oh[c] += w * vt[c];
    }
  }
}

}  // namespace

void TransformerStack::set_memory(KVCache& cache, const float* memory, const int32_t* memory_len,
                                  int sources, int S) const {
  if (sources > cache.sources() || S > cache.memory_capacity())
    throw std::logic_error("set_memory: cache too small for the sources");
  ParamStore& p = params_;
  const int d = shape_.d, H = shape_.heads, rows = sources * S;
  cache.memory_S = S;
  std::copy(memory_len, memory_len + sources, cache.memory_len.begin());
  auto& kv = cache.scratch.memory_kv;
  kv.resize(static_cast<size_t>(rows) * 2 * d);
  std::vector<float> stats(static_cast<size_t>(rows) * H);
  int layer = 0;
  for (const Sublayer& s : subs_) {
    if (s.kind != SublayerKind::CrossAttention) continue;
    linear_forward(kv.data(), memory, p.value(s.kv), p.value(s.kv_b), rows, d, 2 * d);
    float* dst[2] = {cache.memory_keys(layer), cache.memory_values(layer)};
    for (int part = 0; part < 2; ++part) {
      for (int r = 0; r < rows; ++r)
        std::memcpy(dst[part] + static_cast<size_t>(r) * d,
                    kv.data() + static_cast<size_t>(r) * 2 * d + part * d, d * sizeof(float));
      if (s.recipe.has(Op::QKVNorm)) {  // per-head norms of k and v, in place through a copy
        std::vector<float> raw(dst[part], dst[part] + static_cast<size_t>(rows) * d);
        s.at(Op::QKVNorm)
            .norm[part + 1]
            .forward(p, dst[part], stats.data(), stats.data(), raw.data(), rows * H);
      }
    }
    ++layer;
  }
}

const float* TransformerStack::step(const float* x0, int rows, int pos, KVCache& cache) const {
  ParamStore& p = params_;
  const int d = shape_.d, H = shape_.heads, ff = shape_.d_ff;
  if (rows > cache.rows() || pos < 0 || pos > cache.length() || pos >= cache.capacity())
    throw std::logic_error("step: position " + std::to_string(pos) +
                           " not appendable to a cache of length " +
                           std::to_string(cache.length()));
  KVCache::Scratch& sc = cache.scratch;
  float* mean = sc.mean.data();
  float* rstd = sc.rstd.data();
  const size_t n = static_cast<size_t>(rows) * d;
  float* dual = sc.dual.data();
  if (desc_.dual_stream) std::memcpy(dual, x0, n * sizeof(float));  // d_0 = x_0

  const float* x = x0;
  const float* x_block = x;
  for (size_t i = 0; i < subs_.size(); ++i) {
    const Sublayer& s = subs_[i];
    if (i % per_block_ == 0) x_block = x;
    // PRE: x_eff = N_stream(x) or x;  u = [s]([n](x_eff)).
    const float* x_eff = x;
    if (s.recipe.has(Op::NormStream)) {
      s.at(Op::NormStream).norm[0].forward(p, sc.xs.data(), mean, rstd, x, rows);
      x_eff = sc.xs.data();
    }
    const float* u = x_eff;
    if (s.recipe.has(Op::Norm)) {
      s.at(Op::Norm).norm[0].forward(p, sc.un.data(), mean, rstd, u, rows);
      u = sc.un.data();
    }
    if (s.recipe.has(Op::ScaleByDepth)) {  // N(x) / sqrt(l) (Sun et al. 2025)
      const float c = 1.0f / std::sqrt(static_cast<float>(s.layer));
      for (size_t k = 0; k < n; ++k) sc.us[k] = u[k] * c;
      u = sc.us.data();
    }
    // F(u).
    const int layer = s.layer - 1;
    if (s.kind == SublayerKind::SelfAttention) {
      float* qkv = sc.qkv.data();
      linear_forward(qkv, u, p.value(s.w1), p.value(s.b1), rows, d, 3 * d);
      if (s.recipe.has(Op::QKVNorm)) {
        // Per-head norms: each part of each row is H rows of width hd.
        for (int part = 0; part < 3; ++part) {
          for (int r = 0; r < rows; ++r)
            std::memcpy(sc.raw.data() + static_cast<size_t>(r) * d,
                        qkv + static_cast<size_t>(r) * 3 * d + part * d, d * sizeof(float));
          float* normed = sc.o.data();  // free until attention writes it
          s.at(Op::QKVNorm).norm[part].forward(p, normed, mean, rstd, sc.raw.data(), rows * H);
          for (int r = 0; r < rows; ++r)
            std::memcpy(sc.qkv_n.data() + static_cast<size_t>(r) * 3 * d + part * d,
                        normed + static_cast<size_t>(r) * d, d * sizeof(float));
        }
        qkv = sc.qkv_n.data();
      }
      const size_t row_span = static_cast<size_t>(cache.capacity()) * d;
      for (int r = 0; r < rows; ++r) {
        float* K = cache.keys(layer) + r * row_span;
        float* V = cache.values(layer) + r * row_span;
        const float* qkv_r = qkv + static_cast<size_t>(r) * 3 * d;
        std::memcpy(K + static_cast<size_t>(pos) * d, qkv_r + d, d * sizeof(float));
        std::memcpy(V + static_cast<size_t>(pos) * d, qkv_r + 2 * d, d * sizeof(float));
        attend_one(sc.o.data() + static_cast<size_t>(r) * d, sc.scores.data(), qkv_r, K, V, pos + 1,
                   d, H);
      }
      linear_forward(sc.f_out.data(), sc.o.data(), p.value(s.w2), p.value(s.b2), rows, d, d);
    } else if (s.kind == SublayerKind::CrossAttention) {
      float* q = sc.qkv.data();
      linear_forward(q, u, p.value(s.w1), p.value(s.b1), rows, d, d);
      if (s.recipe.has(Op::QKVNorm)) {
        s.at(Op::QKVNorm).norm[0].forward(p, sc.qkv_n.data(), mean, rstd, q, rows * H);
        q = sc.qkv_n.data();
      }
      const size_t src_span = static_cast<size_t>(cache.memory_S) * d;
      for (int r = 0; r < rows; ++r) {
        const int src = cache.row_source[r];
        attend_one(sc.o.data() + static_cast<size_t>(r) * d, sc.scores.data(),
                   q + static_cast<size_t>(r) * d, cache.memory_keys(layer) + src * src_span,
                   cache.memory_values(layer) + src * src_span, cache.memory_len[src], d, H);
      }
      linear_forward(sc.f_out.data(), sc.o.data(), p.value(s.w2), p.value(s.b2), rows, d, d);
    } else {
      linear_forward(sc.h1.data(), u, p.value(s.w1), p.value(s.b1), rows, d, ff);
      gelu_forward(sc.g.data(), sc.h1.data(), static_cast<size_t>(rows) * ff);
      linear_forward(sc.f_out.data(), sc.g.data(), p.value(s.w2), p.value(s.b2), rows, ff, d);
    }
    // POST ops in order (dropout is the identity at inference).
    const float* v = sc.f_out.data();
    for (size_t j = 0; j < s.recipe.post.size(); ++j)
      v = post_op(s, j, v, sc.post[i][j].data(), x_eff, x_block, dual, mean, rstd, rows, false, 0);
    x = v;
  }
  cache.set_length(pos + 1);

  // Output: x_L + N(d_L) (ResiDual), N(x_L), or x_L.
  float* h = sc.h.data();
  if (desc_.dual_stream) {
    resi_norm_.forward(p, sc.resi_n.data(), mean, rstd, dual, rows);
    for (size_t k = 0; k < n; ++k) h[k] = x[k] + sc.resi_n[k];
  } else if (desc_.final_norm) {
    final_norm_.forward(p, h, mean, rstd, x, rows);
  } else {
    std::memcpy(h, x, n * sizeof(float));
  }
  return h;
}

}  // namespace normlab
