// Fused softmax + cross-entropy with optional label smoothing eps (Szegedy et al. 2016, as
// fairseq's label_smoothed_cross_entropy):
//   p = softmax(z),  loss_i = (1 - eps) * (-log p[y_i]) + eps * mean_j(-log p_j)
// Rows whose target is negative are ignored (padding). Both functions return the mean loss over
// the counted rows and report their number in *count.
#pragma once
#include <cstdint>

namespace normlab {

// The loss alone (evaluation).
double cross_entropy_forward(const float* logits, const int32_t* targets, int N, int V, float eps,
                             int* count);

// The loss and, in the same pass over the logits, the gradient of row_weight * sum_i loss_i:
//   dlogits_t[j, i] = row_weight * (p_ij - (1 - eps) [j = y_i] - eps / V),  0 for ignored rows,
// written transposed, [V, N]: the layout in which the output head's two products
// (dh = dz E, dE = dz^T h) both read it without a copy. It overwrites dlogits_t.
double cross_entropy_forward_backward(float* dlogits_t, const float* logits, const int32_t* targets,
                                      int N, int V, float eps, float row_weight, int* count);

}  // namespace normlab
