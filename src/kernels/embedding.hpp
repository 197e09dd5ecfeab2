// Token + position embedding.
//   out[b,t,:] = scale * tok_emb[tokens[b,t], :] + pos[t, :]
// `scale` is sqrt(d) for fairseq's scaled embedding, else 1. `pos` is either the learned table
// (then dpos receives its gradient) or the fixed sinusoidal table (then dpos is nullptr).
// Both gradients are parameter gradients: they accumulate (+=), as in every kernel
// (kernels/README.md).
#pragma once
#include <cstdint>

namespace normlab {

void embedding_forward(float* out, const int32_t* tokens, const float* tok_emb, const float* pos,
                       int B, int T, int d, float scale);
void embedding_backward(float* dtok_emb, float* dpos, const float* dout, const int32_t* tokens,
                        int B, int T, int d, float scale);

// Sinusoidal positions (Vaswani et al. 2017, as fairseq): for i < d/2,
// table[t, i] = sin(t * w_i), table[t, d/2 + i] = cos(t * w_i), w_i = 10000^(-i/(d/2 - 1)).
void sinusoidal_positions(float* table, int T, int d);

}  // namespace normlab
