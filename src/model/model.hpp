// What every normlab model shares: the config and its shape, one ParamStore, the token
// embedding E [vocab, d] that is also the output projection (tied, as GPT-2 and fairseq's
// share_all_embeddings), positions, and the label-smoothed loss over E's logits. A model is a
// decoder-only LM (decoder_lm.hpp) or an encoder–decoder (encoder_decoder.hpp); the trainer,
// checkpoints and probes see them through this class.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "model/memory_plan.hpp"
#include "model/params.hpp"
#include "model/transformer_stack.hpp"

namespace normlab {

class Model {
 public:
  virtual ~Model() = default;
  // The model the config's `arch` names.
  static std::unique_ptr<Model> create(const Config& config);

  // Fresh initialisation by each stack's scheme (init.cpp). Clears shortcut_profile.
  void initialize(uint64_t seed);
  // Backward of the last forward (with targets); accumulates into params().grads().
  virtual void backward() = 0;
  // The stacks, bottom first (encoder then decoder), for probes and initialisation.
  virtual std::vector<const TransformerStack*> stacks() const = 0;
  // Prefix of the stacks' parameter names ("" for the LM, "encoder." / "decoder.").
  virtual std::vector<std::string> stack_prefixes() const = 0;

  ParamStore& params() { return params_; }
  const ParamStore& params() const { return params_; }
  const ModelShape& shape() const { return shape_; }
  const Config& config() const { return config_; }
  // Logits [rows, vocab] of the last forward without targets (a training forward never holds
  // them all: see head_forward).
  const float* logits() const { return logits_.data(); }
  // Seed for dropout masks of the next forward (the trainer sets it per micro-batch).
  void set_dropout_seed(uint64_t seed) { dropout_seed_ = seed; }
  bool training = true;  // dropout on
  // A forward with targets also computes the output head's gradient, in the same pass over each
  // chunk of logits (head_forward), and backward() needs it. Evaluation turns this off to skip
  // that work (as torch.no_grad).
  bool grad_enabled = true;
  // Probes (diag/probes.hpp): when on, the next forward records attention entropies and the
  // backward the gradient norms at every block input and sublayer output. Off, they cost nothing.
  bool record_grad_norms = false;

  // Admin's profiling pass (shortcut_profile.cpp; docs/placements.md, "Admin"). Some sublayer
  // has the 'w' residual, whose omega a profiling pass sets once, at initialisation:
  bool needs_shortcut_profile() const;
  // Runs `forward` (one forward of this model on a batch) as the profiling pass, in eval mode
  // without gradients, and records `where` in shortcut_profile.
  void profile_shortcuts(const std::function<void()>& forward, const std::string& where);
  // Where the omega were profiled (a checkpoint's normlab.shortcut_profile); empty: not yet.
  std::string shortcut_profile;
  // On during the profiling forward only: the model's forward passes it to its stacks.
  bool profiling_shortcuts = false;
  // Rows of the output head computed at once by a training forward (head_forward).
  static constexpr int kHeadChunk = 256;

 protected:
  explicit Model(const Config& config);
  // Ids must lie in [0, vocab).
  void check_tokens(const int32_t* tokens, size_t n) const;
  // x = dropout(scale * E[tokens] + P[0..T)) into x0 (and x0d with dropout); returns x.
  const float* embed(float* x0, float* x0d, const int32_t* tokens, int B, int T, long positions,
                     uint64_t stream);
  // g_x (the gradient w.r.t. embed's result) -> E's and the learned positions' gradients.
  // `scratch` [B*T*d] is used when there is dropout.
  void embed_backward(const float* g_x, float* scratch, const int32_t* tokens, int B, int T,
                      long positions, uint64_t stream);
  // logits = h E^T over `rows` rows. With targets, returns the mean label-smoothed
  // cross-entropy over non-negative targets, computed kHeadChunk rows at a time so that the
  // [rows, vocab] logits never exist at once (memory O(chunk x vocab)); with grad_enabled the
  // gradient of each chunk is computed while its logits are at hand (fused linear + cross-entropy,
  // as Liger-Kernel's FusedLinearCrossEntropy): nothing is kept or recomputed for the backward.
  // Without targets, every row's logits are kept for logits().
  double head_forward(const float* h, const int32_t* targets, int rows, float smoothing);
  // Adds E's gradient from the last head_forward into the ParamStore and returns the gradient
  // w.r.t. h [rows, d]. The forward must have had targets and grad_enabled.
  const float* head_backward();
  // The output head's buffers for up to `rows` rows.
  void plan_head(MemoryPlan& plan, int rows);
  // nGPT's head (a stack whose description is on_sphere): registers s_z [vocab] and keeps the
  // embedding's rows unit (NVIDIA/ngpt train.py normalizes wte and lm_head along dim 1; here they
  // are one tied matrix). Call before the ParamStore is allocated.
  void put_head_on_sphere();
  // logits[r, v] *= s_z[v] over `rows` rows (nGPT, eq. 3: z = s_z (h E^T)); nothing otherwise.
  void scale_logits(float* logits, int rows);

  Config config_;
  ModelShape shape_;
  ParamStore params_;
  long tok_emb_ = -1;
  long logit_scale_ = -1;         // nGPT's s_z (-1: none)
  std::vector<float> sinusoids_;  // [seq_len, d] when positions are sinusoidal
  std::vector<float> arena_;      // every activation and gradient scratch buffer
  uint64_t dropout_seed_ = 0;
  float* chunk_logits_ = nullptr;      // [kHeadChunk, vocab]
  float* chunk_dlogits_t_ = nullptr;   // [vocab, kHeadChunk]: transposed
  float* g_head_input_ = nullptr;      // [rows, d]: d loss / d h
  float* g_head_weight_ = nullptr;     // [vocab, d]: d loss / d E through the head
  float* chunk_raw_logits_ = nullptr;  // [kHeadChunk, vocab]: h E^T before s_z (nGPT)
  float* g_logit_scale_ = nullptr;     // [vocab]: d loss / d s_z's theta (nGPT)
  bool head_has_gradient_ = false;
  std::vector<float> logits_;  // all rows, only for forwards without targets
};

// The config keys that define a model's shape and wiring (a checkpoint must agree on these).
const std::vector<std::string>& model_config_keys();

}  // namespace normlab
