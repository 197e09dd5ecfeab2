// Admin's profiling pass (Liu et al. 2020, "Understanding the Difficulty of Training
// Transformers", arXiv 2004.08249, Algorithm 1; official code LiyuanLucasLiu/Transformer-Clinic,
// init_type adaptive-profiling): one forward at initialisation sets the shortcut weight omega of
// every 'w' sublayer, stack by stack, bottom up (TransformerStack::profile_shortcuts). It runs
// without dropout, so that the omega depend on the parameters and the batch only.
#include "model/model.hpp"

namespace normlab {

bool Model::needs_shortcut_profile() const {
  for (const TransformerStack* stack : stacks())
    for (const Sublayer& s : stack->sublayers())
      if (s.recipe.has(Op::ShortcutWeight)) return true;
  return false;
}

void Model::profile_shortcuts(const std::function<void()>& forward, const std::string& where) {
  const bool was_training = training, had_grad = grad_enabled;
  training = false, grad_enabled = false, profiling_shortcuts = true;
  forward();
  training = was_training, grad_enabled = had_grad, profiling_shortcuts = false;
  shortcut_profile = where;
}

}  // namespace normlab
