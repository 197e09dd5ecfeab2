// AdamW over a ParamStore, with global gradient-norm clipping. Moments are planned once, in the
// same layout as the parameters. Weight decay applies to weight matrices only unless decay_all
// (norm gains, biases and embeddings are not decayed, as in GPT-2 / nanoGPT practice).
#pragma once
#include <string>
#include <vector>

#include "core/config.hpp"
#include "model/params.hpp"

namespace normlab {

struct AdamWSettings {
  float beta1 = 0.9f, beta2 = 0.98f, eps = 1e-8f, weight_decay = 0.0f, clip_norm = 0.0f;
  bool decay_all = false;
  static AdamWSettings from_config(const Config& config);
};

class AdamW {
 public:
  AdamW(ParamStore& params, const AdamWSettings& settings);
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
  std::vector<float> m_, v_;
  long step_ = 0;
};

// sqrt(sum of squares) of all gradients.
double global_grad_norm(ParamStore& params);

}  // namespace normlab
