#include "model/model.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/cross_entropy.hpp"
#include "kernels/dropout.hpp"
#include "kernels/embedding.hpp"
#include "kernels/linear.hpp"
#include "model/decoder_lm.hpp"
#include "model/encoder_decoder.hpp"

namespace normlab {

const std::vector<std::string>& model_config_keys() {
  static const std::vector<std::string> keys = {
      "arch",           "vocab_size",  "d_model",        "n_heads",        "n_layers",
      "encoder_layers", "d_ff",        "seq_len",        "positions",      "placement",
      "block",          "lower_block", "lower_fraction", "final_norm",     "norm",
      "norm_eps",       "dt",          "residual_alpha", "scale_embedding"};
  return keys;
}

std::unique_ptr<Model> Model::create(const Config& config) {
  if (config.get_string("arch") == "encdec") return std::make_unique<EncoderDecoder>(config);
  return std::make_unique<DecoderLM>(config);
}

Model::Model(const Config& config) : config_(config) {
  ModelShape& m = shape_;
  const bool encdec = config.get_string("arch") == "encdec";
  m.vocab = static_cast<int>(config.get_int("vocab_size"));
  m.d = static_cast<int>(config.get_int("d_model"));
  m.heads = static_cast<int>(config.get_int("n_heads"));
  m.layers = static_cast<int>(config.get_int("n_layers"));
  m.encoder_layers = encdec ? static_cast<int>(config.get_int("encoder_layers")) : 0;
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
  if (encdec) positive(m.encoder_layers, "encoder_layers");
  positive(m.d_ff, "d_ff");
  positive(m.max_T, "seq_len");
  if (m.d % m.heads != 0)
    throw UserError("option 'n_heads': " + std::to_string(m.heads) + " does not divide d_model " +
                    std::to_string(m.d));
  if (!(m.dropout >= 0 && m.dropout < 1)) throw UserError("option 'dropout' must be in [0, 1)");
  tok_emb_ = static_cast<long>(params_.add("tok_emb.weight", {m.vocab, m.d}, ParamRole::Embedding));
  if (!m.learned_positions) {
    sinusoids_.resize(static_cast<size_t>(m.max_T) * m.d);
    sinusoidal_positions(sinusoids_.data(), m.max_T, m.d);
  }
}

void Model::check_tokens(const int32_t* tokens, size_t n) const {
  for (size_t i = 0; i < n; ++i)
    if (tokens[i] < 0 || tokens[i] >= shape_.vocab)
      throw UserError("token id " + std::to_string(tokens[i]) + " outside the vocabulary of " +
                      std::to_string(shape_.vocab));
}

const float* Model::embed(float* x0, float* x0d, const int32_t* tokens, int B, int T,
                          long positions, uint64_t stream) {
  const int d = shape_.d;
  const size_t n = static_cast<size_t>(B) * T * d;
  const float* pos = positions >= 0 ? params_.value(positions) : sinusoids_.data();
  embedding_forward(x0, tokens, params_.value(tok_emb_), pos, B, T, d, shape_.embed_scale);
  if (!x0d) return x0;
  if (training)
    dropout_forward(x0d, x0, shape_.dropout, dropout_seed_, stream, n);
  else
    std::memcpy(x0d, x0, n * sizeof(float));
  return x0d;
}

void Model::embed_backward(const float* g_x, float* scratch, const int32_t* tokens, int B, int T,
                           long positions, uint64_t stream) {
  const int d = shape_.d;
  const size_t n = static_cast<size_t>(B) * T * d;
  if (shape_.dropout > 0) {
    std::memset(scratch, 0, n * sizeof(float));
    dropout_backward(scratch, g_x, shape_.dropout, dropout_seed_, stream, n);
    g_x = scratch;
  }
  embedding_backward(params_.grad(tok_emb_), positions >= 0 ? params_.grad(positions) : nullptr,
                     g_x, tokens, B, T, d, shape_.embed_scale);
}

void Model::plan_head(MemoryPlan& plan, int rows) {
  const size_t V = shape_.vocab, chunk = std::min(rows, kHeadChunk);
  plan.want(&chunk_logits_, chunk * V), plan.want(&chunk_probs_, chunk * V);
  targets_.resize(static_cast<size_t>(rows));
}

// Fused linear + cross-entropy by row chunks (the loss of a chunk needs only its own logits):
//   z_c = h_c E^T,  loss += sum_c count_c * CE_c(z_c) / count.
double Model::head_forward(const float* h, const int32_t* targets, int rows, float smoothing) {
  const int d = shape_.d, V = shape_.vocab;
  head_rows_ = rows;
  smoothing_ = smoothing;
  if (!targets) {
    logits_.resize(static_cast<size_t>(rows) * V);
    linear_forward(logits_.data(), h, params_.value(tok_emb_), nullptr, rows, d, V);
    return 0.0;
  }
  std::copy(targets, targets + rows, targets_.begin());
  long total = 0;
  for (int r = 0; r < rows; ++r) total += targets[r] >= 0;
  double loss = 0;
  for (int r0 = 0; r0 < rows; r0 += kHeadChunk) {
    const int n = std::min(kHeadChunk, rows - r0);
    linear_forward(chunk_logits_, h + static_cast<size_t>(r0) * d, params_.value(tok_emb_), nullptr,
                   n, d, V);
    int count = 0;
    const double mean =
        cross_entropy_forward(chunk_probs_, chunk_logits_, targets + r0, n, V, smoothing, &count);
    loss += mean * count;
  }
  return total > 0 ? loss / static_cast<double>(total) : 0.0;
}

// Per chunk: z_c recomputed, dz_c = (p_c - (1-eps) onehot - eps/V) / count, then
// g_h_c = dz_c E and dE += dz_c^T h_c.
void Model::head_backward(float* g_h, const float* h) {
  const int d = shape_.d, V = shape_.vocab, rows = head_rows_;
  long total = 0;
  for (int r = 0; r < rows; ++r) total += targets_[r] >= 0;
  std::memset(g_h, 0, static_cast<size_t>(rows) * d * sizeof(float));
  if (total == 0) return;
  for (int r0 = 0; r0 < rows; r0 += kHeadChunk) {
    const int n = std::min(kHeadChunk, rows - r0);
    const float* h_c = h + static_cast<size_t>(r0) * d;
    const int32_t* y_c = targets_.data() + r0;
    linear_forward(chunk_logits_, h_c, params_.value(tok_emb_), nullptr, n, d, V);
    int count = 0;
    cross_entropy_forward(chunk_probs_, chunk_logits_, y_c, n, V, smoothing_, &count);
    if (count == 0) continue;
    // backward divides by this chunk's count; rescale to the whole batch's.
    float* dz = chunk_logits_;
    cross_entropy_backward(dz, chunk_probs_, y_c, n, V, smoothing_,
                           static_cast<float>(count) / static_cast<float>(total));
    linear_backward(g_h + static_cast<size_t>(r0) * d, params_.grad(tok_emb_), nullptr, dz, h_c,
                    params_.value(tok_emb_), n, d, V);
  }
}

}  // namespace normlab
