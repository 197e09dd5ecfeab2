#include "train/optimizer.hpp"

#include <cmath>
#include <cstring>

#include "io/safetensors.hpp"
#include "kernels/adamw.hpp"
#include "kernels/vector_ops.hpp"

namespace normlab {

AdamWSettings AdamWSettings::from_config(const Config& c) {
  AdamWSettings s;
  s.beta1 = static_cast<float>(c.get_float("beta1"));
  s.beta2 = static_cast<float>(c.get_float("beta2"));
  s.eps = static_cast<float>(c.get_float("adam_eps"));
  s.weight_decay = static_cast<float>(c.get_float("weight_decay"));
  s.clip_norm = static_cast<float>(c.get_float("clip_norm"));
  s.decay_all = c.get_bool("decay_all");
  return s;
}

std::vector<AdamWGroup> adamw_groups(const Model& model, const AdamWSettings& settings) {
  const std::vector<ParamEntry>& entries = model.params().entries();
  const std::vector<const TransformerStack*> stacks = model.stacks();
  const std::vector<std::string> prefixes = model.stack_prefixes();
  std::vector<AdamWGroup> groups = {{"base", 1.0f, settings.eps, {}}};
  for (size_t k = 0; k < stacks.size(); ++k) {
    const StackDescription& d = stacks[k]->description();
    groups.push_back(
        {prefixes[k] + "blocks", d.block_lr_scale, settings.eps * d.block_eps_scale, {}});
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    size_t g = 0;
    for (size_t k = 0; k < stacks.size(); ++k)
      if (entries[i].name.rfind(prefixes[k] + "blocks.", 0) == 0) g = k + 1;
    groups[g].tensors.push_back(i);
  }
  return groups;
}

AdamW::AdamW(Model& model, const AdamWSettings& settings)
    : params_(model.params()),
      s_(settings),
      groups_(adamw_groups(model, settings)),
      m_(params_.total(), 0.0f),
      v_(params_.total(), 0.0f) {}

double global_grad_norm(ParamStore& params) {
  double sum = 0;
  for (size_t i = 0; i < params.entries().size(); ++i)
    sum += sum_squares(params.grad(i), params.entries()[i].numel);
  return std::sqrt(sum);
}

double AdamW::step(float lr) {
  return step(lr, global_grad_norm(params_));
}

double AdamW::step(float lr, double norm) {
  if (s_.clip_norm > 0) {
    // As torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when below 1.
    const double coef = s_.clip_norm / (norm + 1e-6);
    if (coef < 1.0)
      scale_inplace(params_.grads().data(), static_cast<float>(coef), params_.total());
  }
  ++step_;
  for (const AdamWGroup& group : groups_)
    for (size_t i : group.tensors) {
      const ParamEntry& e = params_.entries()[i];
      const float wd = (s_.decay_all || e.role == ParamRole::Matrix) ? s_.weight_decay : 0.0f;
      adamw_update(params_.value(i), params_.grad(i), m_.data() + e.offset, v_.data() + e.offset,
                   e.numel, lr * group.lr_scale, s_.beta1, s_.beta2, group.eps, wd, step_);
    }
  params_.project_to_sphere();  // nGPT's matrices back onto the sphere (none elsewhere)
  return norm;
}

void AdamW::save(const std::string& path, const std::string& model_identity) const {
  SafeTensorsFile file;
  file.metadata["normlab.step"] = std::to_string(step_);
  file.metadata["normlab.model_identity"] = model_identity;
  for (const auto& e : params_.entries()) {
    file.tensors.emplace_back("m." + e.name, make_f32_tensor(m_.data() + e.offset, e.shape));
    file.tensors.emplace_back("v." + e.name, make_f32_tensor(v_.data() + e.offset, e.shape));
  }
  write_safetensors(path, file);
}

void AdamW::load(const std::string& path) {
  SafeTensorsFile file = read_safetensors(path);
  for (const auto& e : params_.entries()) {
    for (const char* which : {"m.", "v."}) {
      const SafeTensor* t = file.find(which + e.name);
      if (!t) throw UserError(path + ": missing optimizer tensor '" + which + e.name + "'");
      if (t->shape != e.shape)
        throw UserError(path + ": optimizer tensor '" + which + e.name + "' has shape " +
                        shape_string(t->shape) + ", expected " + shape_string(e.shape));
      std::vector<float> v = t->to_f32(path + ": tensor '" + which + e.name + "'");
      float* dst = (which[0] == 'm' ? m_.data() : v_.data()) + e.offset;
      std::memcpy(dst, v.data(), e.numel * sizeof(float));
    }
  }
  step_ = metadata_count(file.metadata, "normlab.step", path).value_or(0);
}

}  // namespace normlab
