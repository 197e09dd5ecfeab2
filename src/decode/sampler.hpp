// Next-token sampling from logits: temperature, top-k, top-p (nucleus; Holtzman et al. 2020).
// temperature 0 is greedy (argmax).
#pragma once
#include <cstdint>
#include <vector>

#include "core/rng.hpp"

namespace normlab {

struct SamplingSettings {
  float temperature = 1.0f;
  int top_k = 0;       // 0: all
  float top_p = 1.0f;  // 1: off
};

// `scratch` avoids allocation per token.
int32_t sample_token(const float* logits, int V, const SamplingSettings& s, Rng& rng,
                     std::vector<std::pair<float, int32_t>>& scratch);

}  // namespace normlab
