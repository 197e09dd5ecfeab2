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
  const size_t d = d_, R = static_cast<size_t>(rows);
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
  scratch.x0.assign(R * d, 0.0f);
  scratch.logits.assign(R * vocab, 0.0f);
  stack.plan_step(scratch.stack, rows, sources * memory_capacity);
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
