#include "model/model.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "core/placement_presets.hpp"
#include "kernels/cross_entropy.hpp"
#include "kernels/dropout.hpp"
#include "kernels/embedding.hpp"
#include "kernels/linear.hpp"
#include "kernels/sphere.hpp"
#include "kernels/vector_ops.hpp"
#include "model/decoder_lm.hpp"
#include "model/encoder_decoder.hpp"
#include "model/sphere_scales.hpp"

namespace normlab {

const std::vector<std::string>& model_config_keys() {
  static const std::vector<std::string> keys = {
      "arch",           "vocab_size",  "d_model",        "n_heads",         "n_layers",
      "encoder_layers", "d_ff",        "seq_len",        "positions",       "placement",
      "block",          "lower_block", "lower_fraction", "final_norm",      "norm",
      "norm_eps",       "dt",          "residual_alpha", "completep_alpha", "completep_base_depth",
      "scale_embedding"};
  return keys;
}

std::unique_ptr<Model> Model::create(const Config& config) {
  if (config.get_string("arch") == "encdec") return std::make_unique<EncoderDecoder>(config);
  return std::make_unique<DecoderLM>(config);
}

// The model keeps its config with the placement written out (core/placement_presets.hpp), so that
// a checkpoint's metadata says what the preset meant.
Model::Model(const Config& config) : config_(expand_placement(config)) {
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
  if (MemoryCount* count = MemoryCount::active()) {
    if (!m.learned_positions) count->activation_floats += static_cast<size_t>(m.max_T) * m.d;
  } else if (!m.learned_positions) {
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
    dropout_backward(scratch, g_x, shape_.dropout, dropout_seed_, stream, n);
    g_x = scratch;
  }
  embedding_backward(params_.grad(tok_emb_), positions >= 0 ? params_.grad(positions) : nullptr,
                     g_x, tokens, B, T, d, shape_.embed_scale);
}

void Model::plan_head(MemoryPlan& plan, int rows) {
  const size_t V = shape_.vocab, d = shape_.d, chunk = std::min(rows, kHeadChunk);
  plan.want(&chunk_logits_, chunk * V), plan.want(&chunk_dlogits_t_, V * chunk);
  plan.want(&g_head_input_, static_cast<size_t>(rows) * d), plan.want(&g_head_weight_, V * d);
  if (logit_scale_ >= 0) plan.want(&chunk_raw_logits_, chunk * V), plan.want(&g_logit_scale_, V);
}

void Model::put_head_on_sphere() {
  logit_scale_ = static_cast<long>(
      params_.add(sphere_scale_name(SphereScale::Logit), {shape_.vocab}, ParamRole::Scale));
  params_.keep_unit(tok_emb_, UnitAxis::Rows);
}

void Model::scale_logits(float* logits, int rows) {
  if (logit_scale_ < 0) return;
  const int V = shape_.vocab;
  const float* theta = params_.value(logit_scale_);
  const float c = sphere_scale_factor(SphereScale::Logit, shape_.d);
#pragma omp parallel for if (rows >= 64)
  for (int r = 0; r < rows; ++r)
    for (int v = 0; v < V; ++v) logits[static_cast<size_t>(r) * V + v] *= theta[v] * c;
}

// Fused linear + cross-entropy by row chunks c (the loss of a chunk needs only its own logits):
//   z_c = h_c E^T,  loss = sum_c count_c * CE_c(z_c) / count,
// and with the gradient, while z_c is at hand (dz_c = dloss/dz_c, weight 1/count per row):
//   dh_c = dz_c E,  dE += dz_c^T h_c.
// nGPT's z_c = s_z (h_c E^T) (a = h_c E^T kept): ds_z += sum_r dz_c a, then dz_c *= s_z.
double Model::head_forward(const float* h, const int32_t* targets, int rows, float smoothing) {
  const int d = shape_.d, V = shape_.vocab;
  head_has_gradient_ = false;
  if (!targets) {
    logits_.resize(static_cast<size_t>(rows) * V);
    linear_forward(logits_.data(), h, params_.value(tok_emb_), nullptr, rows, d, V);
    scale_logits(logits_.data(), rows);
    return 0.0;
  }
  const bool sphere = logit_scale_ >= 0;
  const float* theta = sphere ? params_.value(logit_scale_) : nullptr;
  const float c = sphere_scale_factor(SphereScale::Logit, d);
  if (sphere && grad_enabled) zero(g_logit_scale_, V);
  long total = 0;
  for (int r = 0; r < rows; ++r) total += targets[r] >= 0;
  const float* E = params_.value(tok_emb_);
  const float row_weight = total > 0 ? 1.0f / static_cast<float>(total) : 0.0f;
  double loss = 0;
  if (rows == 0 && grad_enabled) zero(g_head_weight_, static_cast<size_t>(V) * d);
  for (int r0 = 0; r0 < rows; r0 += kHeadChunk) {
    const int n = std::min(kHeadChunk, rows - r0);
    const float* h_c = h + static_cast<size_t>(r0) * d;
    if (sphere) {
      linear_forward(chunk_raw_logits_, h_c, E, nullptr, n, d, V);
      std::memcpy(chunk_logits_, chunk_raw_logits_, static_cast<size_t>(n) * V * sizeof(float));
      scale_logits(chunk_logits_, n);
    } else {
      linear_forward(chunk_logits_, h_c, E, nullptr, n, d, V);
    }
    int count = 0;
    if (!grad_enabled) {
      loss += cross_entropy_forward(chunk_logits_, targets + r0, n, V, smoothing, &count) * count;
      continue;
    }
    loss += cross_entropy_forward_backward(chunk_dlogits_t_, chunk_logits_, targets + r0, n, V,
                                           smoothing, row_weight, &count) *
            count;
    if (sphere) {
#pragma omp parallel for if (V >= 64)
      for (int v = 0; v < V; ++v) {
        float* dz = chunk_dlogits_t_ + static_cast<size_t>(v) * n;
        double acc = 0.0;
        for (int r = 0; r < n; ++r)
          acc += static_cast<double>(dz[r]) * chunk_raw_logits_[static_cast<size_t>(r) * V + v];
        g_logit_scale_[v] += static_cast<float>(acc) * c;
        for (int r = 0; r < n; ++r) dz[r] *= theta[v] * c;
      }
    }
    // dz_c^T is [V, n]: dh_c [n, d] = (dz_c^T)^T E,  dE [V, d] (+)= dz_c^T h_c.
    matmul(g_head_input_ + static_cast<size_t>(r0) * d, chunk_dlogits_t_, E, n, d, V, true, false,
           1.0f, 0.0f);
    matmul(g_head_weight_, chunk_dlogits_t_, h_c, V, d, n, false, false, 1.0f,
           r0 > 0 ? 1.0f : 0.0f);
  }
  head_has_gradient_ = grad_enabled;
  return total > 0 ? loss / static_cast<double>(total) : 0.0;
}

const float* Model::head_backward() {
  if (!head_has_gradient_)
    throw std::logic_error("backward: the last forward had no targets or grad_enabled was off");
  add_inplace(params_.grad(tok_emb_), g_head_weight_, params_.entries()[tok_emb_].numel);
  if (logit_scale_ >= 0) add_inplace(params_.grad(logit_scale_), g_logit_scale_, shape_.vocab);
  return g_head_input_;
}

}  // namespace normlab
