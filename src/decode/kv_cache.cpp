#include "decode/kv_cache.hpp"

#include <algorithm>

namespace normlab {

KVCache::KVCache(const DecoderLM& model) {
  const ModelShape& m = model.shape();
  const size_t d = m.d, ff = m.d_ff;
  capacity_ = m.max_T;
  const size_t rows = static_cast<size_t>(capacity_) * d;
  k_.assign(static_cast<size_t>(m.layers), std::vector<float>(rows, 0.0f));
  v_.assign(static_cast<size_t>(m.layers), std::vector<float>(rows, 0.0f));
  Scratch& s = scratch;
  for (auto* b : {&s.x0, &s.dual, &s.xs, &s.un, &s.us, &s.o, &s.f_out, &s.h, &s.resi_n})
    b->assign(d, 0.0f);
  s.qkv.assign(3 * d, 0.0f);
  s.qkv_n.assign(3 * d, 0.0f);
  s.q_raw.assign(d, 0.0f);
  s.h1.assign(ff, 0.0f);
  s.g.assign(ff, 0.0f);
  s.mean.assign(static_cast<size_t>(std::max(m.heads, 1)), 0.0f);
  s.rstd.assign(static_cast<size_t>(std::max(m.heads, 1)), 0.0f);
  s.scores.assign(static_cast<size_t>(capacity_), 0.0f);
  s.logits.assign(static_cast<size_t>(m.vocab), 0.0f);
  const auto& subs = model.sublayers();
  s.post.resize(subs.size());
  for (size_t i = 0; i < subs.size(); ++i)
    s.post[i].assign(subs[i].recipe.post.size(), std::vector<float>(d, 0.0f));
}

}  // namespace normlab
