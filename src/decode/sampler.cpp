#include "decode/sampler.hpp"

#include <algorithm>
#include <cmath>

namespace normlab {

int32_t sample_token(const float* logits, int V, const SamplingSettings& s, Rng& rng,
                     std::vector<std::pair<float, int32_t>>& scratch) {
  if (s.temperature <= 0)
    return static_cast<int32_t>(std::max_element(logits, logits + V) - logits);
  scratch.resize(V);
  for (int i = 0; i < V; ++i) scratch[i] = {logits[i] / s.temperature, i};
  // Keep the k largest (all if top_k is 0), sorted by decreasing logit.
  const int k = (s.top_k > 0 && s.top_k < V) ? s.top_k : V;
  std::partial_sort(scratch.begin(), scratch.begin() + k, scratch.end(),
                    [](const auto& a, const auto& b) { return a.first > b.first; });
  const float top = scratch[0].first;
  double total = 0;
  for (int i = 0; i < k; ++i) total += (scratch[i].first = std::exp(scratch[i].first - top));
  // Nucleus: the smallest prefix whose mass reaches top_p.
  int n = k;
  if (s.top_p < 1.0f) {
    double mass = 0;
    for (int i = 0; i < k; ++i) {
      mass += scratch[i].first / total;
      if (mass >= s.top_p) {
        n = i + 1;
        break;
      }
    }
    total = 0;
    for (int i = 0; i < n; ++i) total += scratch[i].first;
  }
  double r = rng.uniform() * total;
  for (int i = 0; i < n; ++i) {
    r -= scratch[i].first;
    if (r <= 0) return scratch[i].second;
  }
  return scratch[n - 1].second;
}

}  // namespace normlab
