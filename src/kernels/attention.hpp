// Causal multi-head scaled dot-product attention (Vaswani et al. 2017):
//   P = softmax(Q K^T / sqrt(hd) + causal mask),  O = P V,  per batch b and head h.
// q, k, v point at [B, T, *] rows with `stride` floats between consecutive positions; head h
// occupies columns [h*hd, (h+1)*hd) (hd = d / H). With a fused qkv buffer [B, T, 3d]:
// q = qkv, k = qkv + d, v = qkv + 2d, stride = 3d.
// `att` [B, H, T, T] keeps P for the backward pass (and for attention-entropy diagnostics).
// Backward accumulates into dq, dk, dv (same layout and stride as q, k, v).
#pragma once
#include <cstdint>

namespace normlab {

void attention_forward(float* out, float* att, const float* q, const float* k, const float* v,
                       int stride, int B, int T, int d, int H);
void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q,
                        const float* k, const float* v, const float* att, int stride, int B, int T,
                        int d, int H);

// General tiled ("flash") attention (Dao et al. 2022, FlashAttention; Dao 2023, FlashAttention-2):
// causal or not, Tq queries over Tk keys, optional key padding. Per batch b, head h, query i:
//   s_ij = q_i . k_j / sqrt(hd) for visible keys j,  P_i = softmax(s_i),  o_i = sum_j P_ij v_j,
// where key j is visible to query i iff j < key_len[b] and, when causal, j <= i + (Tk - Tq) (the
// queries are the last Tq positions of the key sequence: Tq = Tk is ordinary causal
// self-attention, Tq = 1 over a KV cache is incremental decoding). The T x T score matrix is never
// stored: query blocks sweep key blocks with an online softmax, and the backward recomputes P
// from q, k and the saved lse (implementation and costs in attention_flash.cpp).
struct AttentionDims {
  int B = 0, H = 0, d = 0;  // d = H * head_dim; head h uses columns [h*hd, (h+1)*hd)
  int Tq = 0, Tk = 0;
  bool causal = false;               // query i sees keys j <= i + (Tk - Tq)  (aligned at the end)
  const int32_t* key_len = nullptr;  // [B] or nullptr: keys j >= key_len[b] are padding (masked)
  int q_stride = 0, kv_stride = 0;   // floats between consecutive positions of q, and of k and v
};

// out [B, Tq, d] contiguous; lse [B, H, Tq] = log-sum-exp of each scaled score row (saved for the
// backward); entropy (nullable) [B, H, Tq] = -sum_j p_ij log p_ij of each attention row
// (diagnostics). q at q + (b*Tq + i)*q_stride, k/v at k + (b*Tk + j)*kv_stride. Scale 1/sqrt(hd).
// A query that sees no key (key_len[b] = 0, or causal with Tq > Tk) gets out = 0, entropy = 0
// and lse = 0 (the empty log-sum-exp, -inf, is replaced by a finite value; the backward never
// reads it) and receives and passes on no gradient.
// Throws std::invalid_argument on inconsistent dims (programming errors, not user input).
void attention_forward(float* out, float* lse, float* entropy, const float* q, const float* k,
                       const float* v, const AttentionDims& dims);
// Accumulates (+=) into dq (layout of q) and dk, dv (layout of k, v). Needs the forward's out and
// lse. The dk, dv rows of padding keys (j >= key_len[b]) are left untouched (zero gradient), and
// padding keys may hold any values, non-finite included: they are never read. Both functions give
// bit-identical results for any OpenMP thread count.
void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* out,
                        const float* lse, const float* q, const float* k, const float* v,
                        const AttentionDims& dims);

}  // namespace normlab
