// Fused softmax + cross-entropy with optional label smoothing eps (Szegedy et al. 2016, as
// fairseq's label_smoothed_cross_entropy):
//   p = softmax(z),  loss_i = (1 - eps) * (-log p[y_i]) + eps * mean_j(-log p_j)
// Rows whose target is negative are ignored (padding). The returned loss is the mean over the
// counted rows. `probs` [N, V] keeps softmax(z) for the backward pass (may alias nothing else).
// Backward writes (overwrites) dlogits = (p - (1-eps) onehot(y) - eps/V) * dloss / count.
#pragma once
#include <cstdint>

namespace normlab {

// Returns mean loss; *count receives the number of counted rows.
double cross_entropy_forward(float* probs, const float* logits, const int32_t* targets, int N,
                             int V, float eps, int* count);
void cross_entropy_backward(float* dlogits, const float* probs, const int32_t* targets, int N,
                            int V, float eps, float dloss);

}  // namespace normlab
