#include "model/decoder_lm.hpp"

#include <algorithm>
#include <stdexcept>

#include "kernels/embedding.hpp"
#include "kernels/linear.hpp"
#include "model/kv_cache.hpp"

namespace normlab {

namespace {
// Registers pos_emb.weight before the stack's parameters (the checkpoint order of docs/model.md).
long register_positions(ParamStore& params, const ModelShape& m) {
  if (!m.learned_positions) return -1;
  return static_cast<long>(params.add("pos_emb.weight", {m.max_T, m.d}, ParamRole::Embedding));
}
}  // namespace

DecoderLM::DecoderLM(const Config& config)
    : Model(config),
      pos_emb_(register_positions(params_, shape_)),
      stack_(params_, shape_, describe_stack(config, StackRole::LanguageModel), "", 0) {
  if (stack_.description().on_sphere) put_head_on_sphere();
  params_.allocate();
}

void DecoderLM::plan(int B, int T) {
  if (T > shape_.max_T)
    throw UserError("sequence length " + std::to_string(T) + " exceeds seq_len " +
                    std::to_string(shape_.max_T));
  plan_B_ = B, plan_T_ = T;
  const size_t BT = static_cast<size_t>(B) * T, d = shape_.d;
  MemoryPlan plan;
  plan.want(&x0_, BT * d);
  if (shape_.dropout > 0) plan.want(&x0d_, BT * d), plan.want(&g_drop_, BT * d);
  stack_.plan(plan, BT, 0);
  plan_head(plan, static_cast<int>(BT));
  plan.want(&g_x0_, BT * d);
  plan.allocate(arena_);
  if (!MemoryCount::active()) tokens_.resize(BT);
}

double DecoderLM::forward(const int32_t* tokens, const int32_t* targets, int B, int T,
                          float smoothing) {
  if (B > plan_B_ || T > plan_T_ || B * T > plan_B_ * plan_T_)
    throw std::logic_error("forward: batch larger than planned");
  B_ = B, T_ = T;
  const int BT = B * T;
  check_tokens(tokens, BT);
  std::copy(tokens, tokens + BT, tokens_.begin());
  const float* x = embed(x0_, x0d_, tokens, B, T, pos_emb_, 0);
  stack_.training = training;
  stack_.dropout_seed = dropout_seed_;
  stack_.record_probes = record_grad_norms;
  stack_.profile_shortcuts = profiling_shortcuts;
  const float* h = stack_.forward(x, B, T, nullptr);
  return head_forward(h, targets, BT, smoothing);
}

void DecoderLM::backward() {
  stack_.record_probes = record_grad_norms;
  stack_.backward(g_x0_, head_backward());
  embed_backward(g_x0_, g_drop_, tokens_.data(), B_, T_, pos_emb_, 0);
}

const float* DecoderLM::forward_next(int32_t token, int pos, KVCache& cache) {
  const int d = shape_.d, V = shape_.vocab;
  check_tokens(&token, 1);
  if (pos < 0 || pos > cache.length() || pos >= cache.capacity() || pos >= shape_.max_T)
    throw std::logic_error("forward_next: position " + std::to_string(pos) +
                           " not appendable to a cache of length " +
                           std::to_string(cache.length()));
  // x_0 = scale * E[token] + P[pos]; dropout is the identity at inference.
  float* x0 = cache.scratch.x0.data();
  const float* pos_table = pos_emb_ >= 0 ? params_.value(pos_emb_) : sinusoids_.data();
  embedding_forward(x0, &token, params_.value(tok_emb_), pos_table + static_cast<size_t>(pos) * d,
                    1, 1, d, shape_.embed_scale);
  const float* h = stack_.step(x0, 1, pos, cache);
  float* logits = cache.scratch.logits.data();
  linear_forward(logits, h, params_.value(tok_emb_), nullptr, 1, d, V);
  scale_logits(logits, 1);
  return logits;
}

}  // namespace normlab
