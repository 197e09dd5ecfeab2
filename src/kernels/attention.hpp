// Causal multi-head scaled dot-product attention (Vaswani et al. 2017):
//   P = softmax(Q K^T / sqrt(hd) + causal mask),  O = P V,  per batch b and head h.
// q, k, v point at [B, T, *] rows with `stride` floats between consecutive positions; head h
// occupies columns [h*hd, (h+1)*hd) (hd = d / H). With a fused qkv buffer [B, T, 3d]:
// q = qkv, k = qkv + d, v = qkv + 2d, stride = 3d.
// `att` [B, H, T, T] keeps P for the backward pass (and for attention-entropy diagnostics).
// Backward accumulates into dq, dk, dv (same layout and stride as q, k, v).
#pragma once

namespace normlab {

void attention_forward(float* out, float* att, const float* q, const float* k, const float* v,
                       int stride, int B, int T, int d, int H);
void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q,
                        const float* k, const float* v, const float* att, int stride, int B, int T,
                        int d, int H);

}  // namespace normlab
