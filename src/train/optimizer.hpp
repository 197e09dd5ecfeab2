// AdamW over a model's ParamStore, with global gradient-norm clipping. Moments are planned once,
// in the same layout as the parameters. Weight decay applies to weight matrices only unless
// decay_all (norm gains, biases and embeddings are not decayed, as in GPT-2 / nanoGPT practice).
// Tensors fall into parameter groups (as torch.optim.AdamW's param_groups), each with its own
// learning-rate multiplier and epsilon: CompleteP's depth parametrisation (model/completep.hpp).
#pragma once
#include <string>
#include <vector>

#include "core/config.hpp"
#include "model/model.hpp"
#include "model/params.hpp"

namespace normlab {

struct AdamWSettings {
  float beta1 = 0.9f, beta2 = 0.98f, eps = 1e-8f, weight_decay = 0.0f, clip_norm = 0.0f;
  bool decay_all = false;
  static AdamWSettings from_config(const Config& config);
};

// One parameter group: lr(step) * lr_scale and eps for each of its tensors.
struct AdamWGroup {
  std::string name;  // "base", or "blocks" / "encoder.blocks" / "decoder.blocks"
  float lr_scale = 1.0f;
  float eps = 1e-8f;
  std::vector<size_t> tensors;  // indices into ParamStore::entries(), in registration order
};

// The model's groups: "base" (the embeddings, final and ResiDual norms: lr x 1, settings.eps),
// then one group per stack with the tensors inside its blocks (names PREFIX "blocks."), at the
// stack's CompleteP multipliers (StackDescription: lr x m_L^(alpha-1), eps x m_L^-alpha; both 1
// when completep_alpha is off). Weight decay is per tensor, as above, in every group.
std::vector<AdamWGroup> adamw_groups(const Model& model, const AdamWSettings& settings);

class AdamW {
 public:
  AdamW(Model& model, const AdamWSettings& settings);
  const std::vector<AdamWGroup>& groups() const { return groups_; }
  // Clips (if clip_norm > 0) and applies one update at learning rate lr. Returns the global
  // gradient norm before clipping.
  double step(float lr);
  // The same, with the global gradient norm already computed by the caller.
  double step(float lr, double grad_norm);
  long steps() const { return step_; }

  // Persistence: m.NAME / v.NAME tensors (optim.safetensors, see docs/model.md).
  void save(const std::string& path, const std::string& model_identity) const;
  void load(const std::string& path);

 private:
  ParamStore& params_;
  AdamWSettings s_;
  std::vector<AdamWGroup> groups_;
  std::vector<float> m_, v_;
  long step_ = 0;
};

// sqrt(sum of squares) of all gradients.
double global_grad_norm(ParamStore& params);

}  // namespace normlab
