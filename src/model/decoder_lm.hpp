// GPT-style decoder-only language model whose blocks are wired by a StackDescription
// (block_description.hpp). Forward and backward of each sublayer are written side by side in
// decoder_lm.cpp; all activation memory is planned once for a (batch, sequence) shape.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "model/block_description.hpp"
#include "model/norm_layer.hpp"
#include "model/params.hpp"

namespace normlab {

class KVCache;  // decode/kv_cache.hpp

struct ModelShape {
  int vocab = 0, d = 0, heads = 0, layers = 0, d_ff = 0, max_T = 0;
  bool learned_positions = true;
  float embed_scale = 1.0f;
  float dropout = 0.0f;
  NormKind norm = NormKind::LayerNorm;
  float norm_eps = 1e-5f;
  float dyt_alpha = 0.5f;
};

// One sublayer (attention or MLP) with its recipe, its parameters and its saved activations.
struct Sublayer {
  SublayerRecipe recipe;
  bool is_attention = false;
  int layer = 1;  // 1-based block index l
  // Norms present in the recipe (width 0 when absent).
  NormLayer norm_stream, norm_in, norm_out, norm_post, q_norm, k_norm, v_norm;
  long w1 = -1, b1 = -1, w2 = -1, b2 = -1;  // attn: qkv, proj; mlp: fc1, fc2

  // Saved activations (planned by DecoderLM::plan). Stats are 1 float per normalised row.
  const float* x_in = nullptr;  // stream entering the sublayer (not owned)
  float *xs = nullptr, *xs_mean = nullptr, *xs_rstd = nullptr;  // N: normalised stream
  float *un = nullptr, *un_mean = nullptr, *un_rstd = nullptr;  // n: F's normalised input
  float* us = nullptr;                                          // s: scaled input
  const float* u = nullptr;                                     // what F saw (alias)
  float *qkv = nullptr, *qkv_raw = nullptr, *qkv_n = nullptr;   // attn ([BT,3d] each)
  float *qkv_mean = nullptr, *qkv_rstd = nullptr;               // q: [3][BT*H]
  float *att = nullptr, *o = nullptr;                           // attn
  float *h1 = nullptr, *g = nullptr;                            // mlp
  float* f_out = nullptr;                                       // F(u)
  std::vector<float*> post_out;                                 // value after each POST op
  std::vector<float*> post_mean, post_rstd;                     // for norm ops
  const float* x_out = nullptr;                                 // = last value
};

class DecoderLM {
 public:
  // Builds the parameter layout from the config (no activation memory yet).
  explicit DecoderLM(const Config& config);

  // Plans and allocates activation and gradient scratch for batches up to B x T.
  void plan(int B, int T);

  // Fresh initialisation by the scheme in the description (init.cpp).
  void initialize(uint64_t seed);

  // Forward; with targets, returns the mean cross-entropy (label smoothing eps), else 0 and
  // leaves logits for every position in logits().
  double forward(const int32_t* tokens, const int32_t* targets, int B, int T, float smoothing = 0);
  // Backward of the last forward (with targets); accumulates into params.grads().
  void backward();
  // Incremental decoding (decoder_lm_incremental.cpp): the logits [vocab] of one new position
  // `pos` (<= cache.length(), < seq_len) holding `token`, attending to the cache's positions
  // [0, pos) and itself; appends its K and V to the cache. Inference only (no dropout); same
  // recipe semantics as forward(). The pointer is into the cache's scratch (valid until the next
  // call). Does not touch forward()'s planned activations.
  const float* forward_next(int32_t token, int pos, KVCache& cache);

  ParamStore& params() { return params_; }
  const ModelShape& shape() const { return shape_; }
  const StackDescription& stack() const { return stack_; }
  const Config& config() const { return config_; }
  const float* logits() const { return logits_; }
  const std::vector<Sublayer>& sublayers() const { return subs_; }
  // Seed for dropout masks of the next forward (the trainer sets it per micro-batch).
  void set_dropout_seed(uint64_t seed) { dropout_seed_ = seed; }
  bool training = true;  // dropout on

  // Backward probes (diag/probes.hpp): when on, backward() records the Frobenius norm of the
  // gradient w.r.t. each block's input and each sublayer's output F(u). Off, they cost nothing.
  bool record_grad_norms = false;
  const std::vector<double>& grad_block_input() const { return grad_block_input_; }
  const std::vector<double>& grad_sublayer_output() const { return grad_sublayer_output_; }
  // The stack's last hidden state x_L (before any final norm) of the last forward.
  const float* stack_output() const { return subs_.back().x_out; }
  int batch() const { return B_; }
  int seq() const { return T_; }

 private:
  void plan_sublayer(Sublayer& s, std::vector<std::pair<float**, size_t>>& wants, size_t BT);
  void sublayer_forward(Sublayer& s, const float* x, const float* x_block, int B, int T, int index);
  void sublayer_backward(Sublayer& s, float* g_in, const float* g_out, int B, int T, int index);
  void attention_forward(Sublayer& s, int B, int T);
  void attention_backward(Sublayer& s, float* g_u, const float* g_f, int B, int T);
  void mlp_forward(Sublayer& s, int B, int T);
  void mlp_backward(Sublayer& s, float* g_u, const float* g_f, int B, int T);

  Config config_;
  ModelShape shape_;
  StackDescription stack_;
  ParamStore params_;
  std::vector<Sublayer> subs_;  // 2 per block: attn, mlp
  long tok_emb_ = -1, pos_emb_ = -1;
  NormLayer final_norm_, resi_norm_;
  std::vector<float> sinusoids_;

  // Planned memory.
  std::vector<float> arena_;
  int plan_B_ = 0, plan_T_ = 0;
  int B_ = 0, T_ = 0;
  float smoothing_ = 0;
  std::vector<int32_t> tokens_, targets_;
  float *x0_ = nullptr, *x0d_ = nullptr, *dual_ = nullptr, *h_ = nullptr, *final_mean_ = nullptr,
        *final_rstd_ = nullptr, *resi_n_ = nullptr, *logits_ = nullptr, *probs_ = nullptr;
  // Gradient scratch shared by all sublayers.
  float *g_stream_[2] = {nullptr, nullptr}, *g_post_[2] = {nullptr, nullptr}, *g_xeff_ = nullptr,
        *g_u_ = nullptr, *g_qkv_ = nullptr, *g_qkv_n_ = nullptr, *g_o_ = nullptr, *g_h1_ = nullptr,
        *g_g_ = nullptr, *g_block_ = nullptr, *g_dual_ = nullptr, *g_h_ = nullptr;
  uint64_t dropout_seed_ = 0;
  std::vector<double> grad_block_input_, grad_sublayer_output_;
};

// The config keys that define a model's shape and wiring (a checkpoint must agree on these).
const std::vector<std::string>& model_config_keys();

}  // namespace normlab
