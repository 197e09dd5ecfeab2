// Initialisation schemes (docs/placements.md, "Initialisation"):
//   xavier   fairseq: Xavier-uniform matrices (q, k, v as three d x d matrices), zero biases,
//            embeddings N(0, d^-1/2).
//   gpt2     N(0, 0.02) everywhere; residual output projections (attn.proj, mlp.fc2) / sqrt(2L).
//   small    Spike No More (Takase et al., arXiv 2312.16903): N(0, sqrt(2/(5d))) everywhere,
//            output projections further / sqrt(2L).
//   tfixup   Huang et al. 2020: xavier, then the value projections, the attention output
//            projections, fc1 and fc2 scaled by (9L)^(-1/4) (decoder rule; encoder 0.67 N^(-1/4)).
//   deepnorm Wang et al. 2022 (torchscale): Xavier-normal; v, the attention output projections,
//            fc1, fc2 with gain beta, q and k with gain 1 (beta per stack: block_description.cpp).
//   subln    Magneto (Wang et al. 2022, "Foundation Transformers"; torchscale subln=True): as
//            deepnorm with gain gamma = sqrt(log 2L) (per stack: block_description.cpp), except
//            that cross-attention keeps gain 1 everywhere (torchscale skips encoder_attn).
// A placement chooses its scheme through its preset's `init` value (core/placement_presets.cpp);
// this file knows schemes, never placements.
// B2T's rescale_init (Takase et al.) multiplies every block weight matrix by L^(-1/2) afterwards,
// L the depth of the matrix's own stack.
// In an encoder–decoder each parameter follows its stack's depth and constants; fused
// projections count as separate d x d matrices (qkv: q, k, v; cross kv: k, v).
// Norm gains start at 1, biases at 0, DyT's alpha at dyt_alpha; nGPT's scales at their s_scale
// (model/sphere_scales.hpp), and its unit matrices are then projected onto the sphere.
#include <cmath>

#include "core/rng.hpp"
#include "model/model.hpp"
#include "model/sphere_scales.hpp"

namespace normlab {

namespace {
void fill_uniform(Rng& rng, float* w, size_t n, double a) {
  for (size_t i = 0; i < n; ++i) w[i] = static_cast<float>((2 * rng.uniform() - 1) * a);
}
void fill_normal(Rng& rng, float* w, size_t n, double std) {
  for (size_t i = 0; i < n; ++i) w[i] = static_cast<float>(rng.normal() * std);
}
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

void Model::initialize(uint64_t seed) {
  Rng rng(seed);
  shortcut_profile.clear();  // Admin's omega start at 1 until a profiling pass sets them
  const double d = shape_.d;
  const auto stack_list = stacks();
  const auto prefixes = stack_prefixes();
  for (size_t i = 0; i < params_.entries().size(); ++i) {
    const ParamEntry& e = params_.entries()[i];
    float* w = params_.value(i);
    // The stack this parameter belongs to (embeddings: the first).
    const StackDescription* stack = &stack_list.front()->description();
    for (size_t k = 0; k < prefixes.size(); ++k)
      if (!prefixes[k].empty() && e.name.rfind(prefixes[k], 0) == 0)
        stack = &stack_list[k]->description();
    const std::string& scheme = stack->init;
    const double L = stack->layers;
    if (e.role == ParamRole::Bias) continue;  // zero
    if (e.role == ParamRole::Scale) {  // nGPT's stored theta = s_scale (model/sphere_scales.hpp)
      const float v = sphere_scale_initial(e.name, shape_.d);
      for (size_t k = 0; k < e.numel; ++k) w[k] = v;
      continue;
    }
    if (e.role == ParamRole::Norm) {
      float v = ends_with(e.name, ".weight") || ends_with(e.name, ".omega") ? 1.0f
                : ends_with(e.name, ".alpha")                               ? shape_.dyt_alpha
                                                                            : 0.0f;
      for (size_t k = 0; k < e.numel; ++k) w[k] = v;
      continue;
    }
    if (e.role == ParamRole::Embedding) {
      if (scheme == "gpt2")
        fill_normal(rng, w, e.numel, 0.02);
      else if (scheme == "small")
        fill_normal(rng, w, e.numel, std::sqrt(2.0 / (5.0 * d)));
      else
        fill_normal(rng, w, e.numel, 1.0 / std::sqrt(d));
      continue;
    }
    // A matrix [out, in]; a fused projection is d x d blocks: qkv = q, k, v; kv = k, v.
    const bool qkv = ends_with(e.name, ".qkv.weight");
    const bool kv = ends_with(e.name, ".kv.weight");
    const bool output_proj = ends_with(e.name, ".proj.weight") || ends_with(e.name, ".fc2.weight");
    const bool mlp = ends_with(e.name, ".fc1.weight") || ends_with(e.name, ".fc2.weight");
    const int parts = qkv ? 3 : kv ? 2 : 1;
    const size_t fan_out = static_cast<size_t>(e.shape[0]) / parts, fan_in = e.shape[1];
    const size_t part_n = fan_out * fan_in;
    for (int part = 0; part < parts; ++part) {
      float* wp = w + part * part_n;
      const bool value = part == parts - 1 && parts > 1;
      const bool cross = e.name.find(".cross.") != std::string::npos;
      const bool scaled = (value || output_proj || mlp) && !(scheme == "subln" && cross);
      if (scheme == "gpt2" || scheme == "small") {
        double std = scheme == "gpt2" ? 0.02 : std::sqrt(2.0 / (5.0 * d));
        if (output_proj) std /= std::sqrt(2.0 * L);
        fill_normal(rng, wp, part_n, std);
      } else if (scheme == "deepnorm" || scheme == "subln") {
        const double gain = scaled ? stack->init_gain : 1.0;
        fill_normal(rng, wp, part_n, gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out)));
      } else {  // xavier, tfixup
        double a = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
        if (scheme == "tfixup" && scaled) a *= stack->init_gain;
        fill_uniform(rng, wp, part_n, a);
      }
    }
    if (config_.get_bool("rescale_init")) {
      const float c = static_cast<float>(1.0 / std::sqrt(L));
      for (size_t k = 0; k < e.numel; ++k) w[k] *= c;
    }
  }
  params_.project_to_sphere();  // nGPT's matrices start on the sphere (train.py, before step 1)
}

}  // namespace normlab
