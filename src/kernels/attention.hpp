// Multi-head scaled dot-product attention (Vaswani et al. 2017), computed tiled as in
// FlashAttention (Dao et al. 2022; FlashAttention-2, Dao 2023). Per batch b, head h (columns
// [h*hd, (h+1)*hd), hd = d / H) and query i, over the keys j visible to i:
//   s_ij = q_i . k_j / sqrt(hd),  P_i = softmax(s_i),  o_i = sum_j P_ij v_j.
// Key j is visible to query i iff j < key_len[b] (key padding, e.g. an encoder's or
// cross-attention's source) and, when causal, j <= i + (Tk - Tq): the Tq queries are the last Tq
// positions of the Tk-key sequence, so Tq = Tk is ordinary causal self-attention and Tq = 1 over
// a KV cache is one incremental decoding step. Self-attention reads a fused qkv buffer [B, T, 3d]
// (q = qkv, k = qkv + d, v = qkv + 2d, both strides 3d); cross-attention reads q [B, Tq, d] and a
// fused k|v buffer [B, Tk, 2d].
//
// The [Tq, Tk] score matrix is never stored: query blocks sweep key blocks with an online softmax,
// the forward saves only lse_i = log sum_j e^(s_ij) per row, and the backward recomputes
// P_ij = e^(s_ij - lse_i) from q, k and lse. Memory is O(block) per thread plus O(Tq) in the
// backward, instead of the B H Tq Tk floats of stored probabilities (268 MB at B 16, H 4,
// T 1024). The row entropies -sum_j P_ij log P_ij (attention-entropy diagnostics) come from the
// same sweep at no extra memory. Every output float is written by one task and every sum runs in
// a fixed order, so results are bit-identical for any OpenMP thread count (implementation and
// costs in attention.cpp).
#pragma once
#include <cstdint>

namespace normlab {

struct AttentionDims {
  int B = 0, H = 0, d = 0;  // d = H * head_dim; head h uses columns [h*hd, (h+1)*hd)
  int Tq = 0, Tk = 0;
  bool causal = false;               // query i sees keys j <= i + (Tk - Tq)  (aligned at the end)
  const int32_t* key_len = nullptr;  // [B] or nullptr: keys j >= key_len[b] are padding (masked)
  int q_stride = 0, kv_stride = 0;   // floats between consecutive positions of q, and of k and v
  // Where the keys and values of batch b start: b * kv_batch_stride floats after k and v (0:
  // Tk * kv_stride, the batches back to back; a KV cache holds more positions than Tk), or, with
  // kv_batch [B], those of batch kv_batch[b] (beam hypotheses reading their source's encoder
  // output; forward only). key_len is indexed by that key batch.
  long kv_batch_stride = 0;
  const int32_t* kv_batch = nullptr;
};

// out [B, Tq, d] contiguous; lse [B, H, Tq] = log-sum-exp of each scaled score row (saved for the
// backward); entropy (nullable) [B, H, Tq] = -sum_j p_ij log p_ij of each attention row
// (diagnostics). q at q + (b*Tq + i)*q_stride, k/v at k + b*kv_batch_stride + j*kv_stride (see
// AttentionDims). Scale 1/sqrt(hd).
// A query that sees no key (key_len[b] = 0, or causal with Tq > Tk) gets out = 0, entropy = 0
// and lse = 0 (the empty log-sum-exp, -inf, is replaced by a finite value; the backward never
// reads it) and receives and passes on no gradient.
// Throws std::invalid_argument on inconsistent dims (programming errors, not user input).
void attention_forward(float* out, float* lse, float* entropy, const float* q, const float* k,
                       const float* v, const AttentionDims& dims);
// Writes (=) dq (layout of q) and dk, dv (layout of k, v); the floats between rows (stride gaps)
// are not touched, so dq, dk and dv may be the q, k and v columns of one fused buffer. Needs the
// forward's out and lse. The dk, dv rows of padding keys (j >= key_len[b]) get exactly zero, and
// padding keys may hold any values, non-finite included: they are never read. Both functions give
// bit-identical results for any OpenMP thread count.
void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* out,
                        const float* lse, const float* q, const float* k, const float* v,
                        const AttentionDims& dims);

}  // namespace normlab
