// The tiny model the model tests share: every placement at a size where finite differences and
// exhaustive comparisons are cheap. mixln gets one post block under two pre blocks; pre and peri
// use dt 0.5 so that the residual step is exercised.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/placement_presets.hpp"
#include "model/params.hpp"

namespace normlab {

inline Config tiny_config(const std::string& placement, const std::string& norm, int seq_len) {
  Config c = Config::defaults();
  c.set("vocab_size", "23", "test");
  c.set("d_model", "16", "test");
  c.set("n_heads", "2", "test");
  c.set("n_layers", "3", "test");
  c.set("d_ff", "20", "test");
  c.set("seq_len", std::to_string(seq_len), "test");
  c.set("placement", placement, "test");
  c.set("norm", norm, "test");
  c.set("lower_fraction", "0.4", "test");
  if (placement == "pre" || placement == "peri") c.set("dt", "0.5", "test");
  return c;
}

// Every placement preset (core/placement_presets.cpp) but `custom`: a new preset is tested
// without editing a list.
inline std::vector<std::string> every_placement() {
  std::vector<std::string> names;
  for (const auto& name : placement_names())
    if (name != "custom") names.push_back(name);
  return names;
}

// Presets defined for the decoder-only LM only, which an encoder–decoder refuses
// (test_encoder_decoder.cpp checks the refusal of each and that no other preset is refused).
inline const std::vector<std::string>& lm_only_placements() {
  static const std::vector<std::string> names = {"ngpt"};
  return names;
}

inline std::vector<std::string> encdec_placements() {
  std::vector<std::string> names;
  for (const auto& name : every_placement())
    if (std::find(lm_only_placements().begin(), lm_only_placements().end(), name) ==
        lm_only_placements().end())
      names.push_back(name);
  return names;
}

// The tiny encoder–decoder: 2 encoder and 3 decoder blocks.
inline Config tiny_encdec_config(const std::string& placement, const std::string& norm,
                                 int seq_len) {
  Config c = tiny_config(placement, norm, seq_len);
  c.set("arch", "encdec", "test");
  c.set("encoder_layers", "2", "test");
  return c;
}

// Whole-model gradient check: for every parameter tensor, the analytic gradient (already in
// params.grads(), from one backward of `loss`) projected on a random unit direction u, against
// central differences (loss(w + h u) - loss(w - h u)) / 2h, extrapolated. Float model, so the
// tolerance is relative 3e-2 plus 2e-4 absolute for the loss's float rounding over 2h; a dropped
// term in any backward path moves the projection far more than that.
inline void expect_gradients_match(ParamStore& p, const std::function<double()>& loss,
                                   const std::string& label) {
  std::vector<float> grads = p.grads();
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  int checked = 0;
  for (size_t i = 0; i < p.entries().size(); ++i) {
    const ParamEntry& e = p.entries()[i];
    std::vector<float> u(e.numel);
    double un = 0;
    for (auto& v : u) v = normal(rng), un += v * v;
    for (auto& v : u) v /= static_cast<float>(std::sqrt(un));
    double analytic = 0;
    for (size_t k = 0; k < e.numel; ++k) analytic += grads[e.offset + k] * u[k];
    float* w = p.value(i);
    std::vector<float> saved(w, w + e.numel);
    auto loss_at = [&](float h) {
      for (size_t k = 0; k < e.numel; ++k) w[k] = saved[k] + h * u[k];
      return loss();
    };
    // Richardson extrapolation of two central differences cancels their h^2 term, which the
    // curvature of deep post-norm stacks makes visible at h = 1e-2.
    const float h = 1e-2f;
    const double d1 = (loss_at(h) - loss_at(-h)) / (2 * h);
    const double d2 = (loss_at(h / 2) - loss_at(-h / 2)) / h;
    const double fd = (4 * d2 - d1) / 3;
    std::copy(saved.begin(), saved.end(), w);
    EXPECT_NEAR(analytic, fd, 3e-2 * std::fabs(fd) + 2e-4) << label << " " << e.name;
    ++checked;
  }
  EXPECT_GT(checked, 10);
}

}  // namespace normlab
