#include "model/kv_cache.hpp"

#include <algorithm>
#include <cstring>

#include "model/decoder_lm.hpp"

namespace normlab {

KVCache::KVCache(const TransformerStack& stack, int rows, int capacity, int vocab, int sources,
                 int memory_capacity)
    : rows_(rows), capacity_(capacity), sources_(sources), memory_capacity_(memory_capacity) {
  const ModelShape& m = stack.shape();
  d_ = static_cast<size_t>(m.d);
  const size_t d = d_, ff = m.d_ff, R = static_cast<size_t>(rows);
  const size_t layers = static_cast<size_t>(stack.description().layers);
  k_.assign(layers, std::vector<float>(R * capacity * d, 0.0f));
  v_.assign(layers, std::vector<float>(R * capacity * d, 0.0f));
  if (stack.description().role == StackRole::Decoder) {
    const size_t mem = static_cast<size_t>(sources) * memory_capacity * d;
    mk_.assign(layers, std::vector<float>(mem, 0.0f));
    mv_.assign(layers, std::vector<float>(mem, 0.0f));
    memory_len.assign(static_cast<size_t>(sources), 0);
  }
  row_source.assign(R, 0);
  Scratch& s = scratch;
  for (auto* b : {&s.x0, &s.dual, &s.xs, &s.un, &s.us, &s.o, &s.f_out, &s.h, &s.resi_n, &s.raw})
    b->assign(R * d, 0.0f);
  s.qkv.assign(R * 3 * d, 0.0f);
  s.qkv_n.assign(R * 3 * d, 0.0f);
  s.h1.assign(R * ff, 0.0f);
  s.g.assign(R * ff, 0.0f);
  s.mean.assign(R * std::max(m.heads, 1), 0.0f);
  s.rstd.assign(R * std::max(m.heads, 1), 0.0f);
  s.scores.assign(static_cast<size_t>(std::max(capacity, memory_capacity)), 0.0f);
  s.logits.assign(R * vocab, 0.0f);
  const auto& subs = stack.sublayers();
  s.post.resize(subs.size());
  for (size_t i = 0; i < subs.size(); ++i)
    s.post[i].assign(subs[i].recipe.post.size(), std::vector<float>(R * d, 0.0f));
}

KVCache::KVCache(const DecoderLM& model)
    : KVCache(model.stack(), 1, model.shape().max_T, model.shape().vocab) {}

void KVCache::reorder(const int32_t* parent, int rows) {
  const size_t span = static_cast<size_t>(length_) * d_, row = static_cast<size_t>(capacity_) * d_;
  gather_.resize(static_cast<size_t>(rows) * span);
  for (size_t layer = 0; layer < k_.size(); ++layer)
    for (auto* kv : {&k_[layer], &v_[layer]}) {
      for (int r = 0; r < rows; ++r)
        std::memcpy(gather_.data() + r * span, kv->data() + parent[r] * row, span * sizeof(float));
      for (int r = 0; r < rows; ++r)
        std::memcpy(kv->data() + r * row, gather_.data() + r * span, span * sizeof(float));
    }
  std::vector<int32_t> sources(static_cast<size_t>(rows));
  for (int r = 0; r < rows; ++r) sources[r] = row_source[parent[r]];
  std::copy(sources.begin(), sources.end(), row_source.begin());
  rows_ = rows;
}

}  // namespace normlab
