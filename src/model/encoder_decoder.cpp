#include "model/encoder_decoder.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "kernels/embedding.hpp"
#include "kernels/linear.hpp"
#include "model/kv_cache.hpp"

namespace normlab {

namespace {
// Learned position tables are registered just before their stack (checkpoint order).
long register_positions(ParamStore& params, const ModelShape& m, const std::string& name) {
  if (!m.learned_positions) return -1;
  return static_cast<long>(params.add(name, {m.max_T, m.d}, ParamRole::Embedding));
}
}  // namespace

EncoderDecoder::EncoderDecoder(const Config& config)
    : Model(config),
      enc_pos_(register_positions(params_, shape_, "encoder.pos_emb.weight")),
      encoder_(params_, shape_, describe_stack(config, StackRole::Encoder), "encoder.", 0),
      dec_pos_(register_positions(params_, shape_, "decoder.pos_emb.weight")),
      decoder_(params_, shape_, describe_stack(config, StackRole::Decoder), "decoder.",
               kDecoderDropoutStream) {
  params_.allocate();
}

void EncoderDecoder::plan(int B, int S, int T, long src_cells, long tgt_cells) {
  for (int len : {S, T})
    if (len > shape_.max_T)
      throw UserError("sequence length " + std::to_string(len) + " exceeds seq_len " +
                      std::to_string(shape_.max_T));
  plan_B_ = B, plan_S_ = S, plan_T_ = T;
  plan_src_cells_ = src_cells > 0 ? src_cells : static_cast<long>(B) * S;
  plan_tgt_cells_ = tgt_cells > 0 ? tgt_cells : static_cast<long>(B) * T;
  const size_t BS = static_cast<size_t>(plan_src_cells_), BT = static_cast<size_t>(plan_tgt_cells_),
               d = shape_.d;
  MemoryPlan plan;
  plan.want(&x0_, BS * d), plan.want(&y0_, BT * d);
  if (shape_.dropout > 0) {
    plan.want(&x0d_, BS * d), plan.want(&y0d_, BT * d);
    plan.want(&g_drop_src_, BS * d), plan.want(&g_drop_tgt_, BT * d);
  }
  encoder_.plan(plan, BS, 0);
  decoder_.plan(plan, BT, BS);
  plan_head(plan, static_cast<int>(BT));
  plan.want(&g_y0_, BT * d);
  plan.want(&g_memory_, BS * d), plan.want(&g_x0_, BS * d);
  plan.allocate(arena_);
  if (!MemoryCount::active())
    src_.resize(BS), tgt_.resize(BT), src_len_.resize(static_cast<size_t>(B));
}

const float* EncoderDecoder::encode(const int32_t* src, const int32_t* src_len, int B, int S) {
  if (B > plan_B_ || S > plan_S_ || static_cast<long>(B) * S > plan_src_cells_)
    throw std::logic_error("encode: batch larger than planned");
  check_tokens(src, static_cast<size_t>(B) * S);
  for (int b = 0; b < B; ++b)
    if (src_len[b] < 1 || src_len[b] > S)
      throw UserError("source row " + std::to_string(b) + " has length " +
                      std::to_string(src_len[b]) + ", outside [1, " + std::to_string(S) + "]");
  const size_t BS = static_cast<size_t>(B) * S;
  std::copy(src, src + BS, src_.begin());
  std::copy(src_len, src_len + B, src_len_.begin());
  B_ = B, S_ = S;
  encoder_.training = training;
  encoder_.dropout_seed = dropout_seed_;
  encoder_.record_probes = record_grad_norms;
  encoder_.profile_shortcuts = profiling_shortcuts;
  const float* x = embed(x0_, x0d_, src_.data(), B, S, enc_pos_, 0);
  return encoder_.forward(x, B, S, src_len_.data());
}

double EncoderDecoder::forward(const int32_t* src, const int32_t* src_len, int B, int S,
                               const int32_t* tgt_in, const int32_t* tgt_out, int T,
                               float smoothing) {
  if (T > plan_T_ || static_cast<long>(B) * T > plan_tgt_cells_)
    throw std::logic_error("forward: batch larger than planned");
  const float* memory = encode(src, src_len, B, S);
  const size_t BT = static_cast<size_t>(B) * T;
  check_tokens(tgt_in, BT);
  std::copy(tgt_in, tgt_in + BT, tgt_.begin());
  T_ = T;
  decoder_.training = training;
  decoder_.dropout_seed = dropout_seed_;
  decoder_.record_probes = record_grad_norms;
  decoder_.profile_shortcuts = profiling_shortcuts;
  const float* y = embed(y0_, y0d_, tgt_.data(), B, T, dec_pos_, kDecoderDropoutStream);
  const float* h = decoder_.forward(y, B, T, nullptr, memory, src_len_.data(), S);
  return head_forward(h, tgt_out, static_cast<int>(BT), smoothing);
}

void EncoderDecoder::backward() {
  encoder_.record_probes = decoder_.record_probes = record_grad_norms;
  const size_t BS = static_cast<size_t>(B_) * S_;
  const float* g_h = head_backward();
  std::memset(g_memory_, 0, BS * shape_.d * sizeof(float));
  decoder_.backward(g_y0_, g_h, g_memory_);
  embed_backward(g_y0_, g_drop_tgt_, tgt_.data(), B_, T_, dec_pos_, kDecoderDropoutStream);
  encoder_.backward(g_x0_, g_memory_);
  embed_backward(g_x0_, g_drop_src_, src_.data(), B_, S_, enc_pos_, 0);
}

void EncoderDecoder::start_decoding(KVCache& cache, const float* memory, const int32_t* src_len,
                                    int B, int S) const {
  decoder_.set_memory(cache, memory, src_len, B, S);
  cache.clear();
}

const float* EncoderDecoder::decode_step(const int32_t* tokens, int rows, int pos, KVCache& cache) {
  const int d = shape_.d, V = shape_.vocab;
  check_tokens(tokens, static_cast<size_t>(rows));
  if (pos >= shape_.max_T)
    throw UserError("target position " + std::to_string(pos) + " exceeds seq_len " +
                    std::to_string(shape_.max_T));
  // y_0 = scale * E[token] + P[pos] for every row; dropout is the identity at inference.
  float* y0 = cache.scratch.x0.data();
  const float* pos_table = dec_pos_ >= 0 ? params_.value(dec_pos_) : sinusoids_.data();
  for (int r = 0; r < rows; ++r)
    embedding_forward(y0 + static_cast<size_t>(r) * d, tokens + r, params_.value(tok_emb_),
                      pos_table + static_cast<size_t>(pos) * d, 1, 1, d, shape_.embed_scale);
  const float* h = decoder_.step(y0, rows, pos, cache);
  float* logits = cache.scratch.logits.data();
  linear_forward(logits, h, params_.value(tok_emb_), nullptr, rows, d, V);
  return logits;
}

}  // namespace normlab
