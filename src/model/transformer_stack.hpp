// A stack of Transformer blocks wired by a StackDescription (block_description.hpp): the
// decoder-only LM's stack, an encoder–decoder's encoder (non-causal self-attention with source
// padding) or its decoder (causal self-attention, cross-attention to the encoder output, MLP).
// Forward and backward of every sublayer are written side by side in transformer_stack.cpp. The
// incremental (KV-cached) decoding step runs the same sublayer forward on new rows, with keys and
// values from the cache (transformer_stack_step.cpp: its buffers and the cache's bookkeeping).
// The stack registers its parameters in the model's ParamStore and its activations in the
// model's MemoryPlan, so that each model plans all its memory in one place.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/attention.hpp"
#include "kernels/hidden_stats.hpp"
#include "model/block_description.hpp"
#include "model/memory_plan.hpp"
#include "model/norm_layer.hpp"
#include "model/params.hpp"

namespace normlab {

class KVCache;  // model/kv_cache.hpp

struct ModelShape {
  int vocab = 0, d = 0, heads = 0, layers = 0, d_ff = 0, max_T = 0;
  int encoder_layers = 0;  // arch=encdec only
  bool learned_positions = true;
  float embed_scale = 1.0f;
  float dropout = 0.0f;
  NormKind norm = NormKind::LayerNorm;
  float norm_eps = 1e-5f;
  float dyt_alpha = 0.5f;
};

enum class SublayerKind { SelfAttention, CrossAttention, MLP };

// What one op of a sublayer's recipe owns and keeps, as its row of block_ops.cpp says: its norms
// and the buffers its backward reads. Parts: q, k and v for 'q', else part 0.
struct OpState {
  NormLayer norm[3];    // width 0 when the op has no norm
  float* in[3] = {};    // kSavesInput: 'q': q, k, v gathered contiguous, before their norms;
                        // 'D': the dual stream d this sublayer read
  float* out[3] = {};   // kSavesOutput: 'N' the normalised stream; 'D' x_eff + N(d); 'q' what
                        // attention reads; POST ops the new value of y (nullptr: an alias of the
                        // value before)
  float* mean[3] = {};  // kSavesStats: per normalised row ('q': per row and head)
  float* rstd[3] = {};
};

// One sublayer with its recipe, its parameters and its saved activations.
struct Sublayer {
  SublayerRecipe recipe;
  SublayerKind kind = SublayerKind::MLP;
  int layer = 1;  // 1-based block index l
  bool is_attention() const { return kind != SublayerKind::MLP; }
  const char* name() const {  // as in parameter names and diagnostics
    return kind == SublayerKind::SelfAttention    ? "attn"
           : kind == SublayerKind::CrossAttention ? "cross"
                                                  : "mlp";
  }
  OpState ops[kOpCount];  // by Op; only the recipe's are registered and planned
  OpState& at(Op op) { return ops[static_cast<int>(op)]; }
  const OpState& at(Op op) const { return ops[static_cast<int>(op)]; }
  // ParamStore indices. attn: w1/b1 = qkv, w2/b2 = proj; cross: w1/b1 = q, kv/kv_b = kv,
  // w2/b2 = proj; mlp: fc1, fc2.
  // nGPT's 'u' sublayer has no biases (-1). Its scale (attention s_qk [d], MLP s_v [d_ff]) and
  // 'h''s eigen learning rate alpha [d] (model/sphere_scales.hpp).
  long w1 = -1, b1 = -1, w2 = -1, b2 = -1, kv = -1, kv_b = -1;
  long scale = -1, alpha = -1;
  long omega = -1;  // 'w': Admin's shortcut weight [d]

  // Saved activations (planned by TransformerStack::plan).
  const float* x_in = nullptr;  // stream entering the sublayer (not owned)
  // What F sees, u = [s]([n](x_eff)): x_eff itself, or the stack's shared buffer, recomputed by
  // the backward from x_eff and the saved statistics (TransformerStack::sublayer_input).
  const float* u = nullptr;
  float* proj = nullptr;    // attn: qkv [BT, 3d]; cross: q [BT, d]
  float* mem_kv = nullptr;  // cross: [BS, 2d] (k | v of the encoder output)
  float *o = nullptr, *lse = nullptr, *entropy = nullptr;  // attention output and row stats
  float* h1 = nullptr;                                     // mlp: fc1(u)
  // F(u). Saved only if a POST norm reads it in the backward (saves_f_out); otherwise the stack's
  // shared buffer, valid until the next sublayer's forward.
  float* f_out = nullptr;
  bool saves_f_out = false;
  HiddenStats f_out_stats;       // of F(u), from a forward with record_probes
  const float* x_out = nullptr;  // = last value
};

// What TransformerStack::stack_output writes: the output h, ResiDual's and SiameseNorm's
// N_resi(d_L), SiameseNorm's N_top(x_L) + N_resi(d_L) (the final norm's input), and the row
// statistics of the final norm (0), N_resi (1) and N_top (2).
struct OutputBuffers {
  float *h = nullptr, *resi_n = nullptr, *sum = nullptr;
  float* mean[3] = {};
  float* rstd[3] = {};
};

// A decoding step's buffers, held by the KV cache and laid out by TransformerStack::plan_step: a
// copy of the stack's sublayers whose activation buffers are sized for the step's rows (the step
// runs the training forward's code on them), and the scratch all sublayers share.
struct StepBuffers {
  std::vector<float> arena;
  std::vector<Sublayer> sublayers;
  float *u = nullptr, *f = nullptr, *gelu = nullptr, *dual = nullptr, *inner = nullptr;
  OutputBuffers out;
};

class TransformerStack {
 public:
  // Registers the stack's parameters as `prefix` + "blocks.{l}.{attn,cross,mlp}.*" (then
  // "final_norm" / "resi_norm" / "top_norm") in `params`, which must not be allocated yet. Dropout
  // streams of this stack start at `dropout_stream`, so that two stacks never share a mask.
  TransformerStack(ParamStore& params, const ModelShape& shape, StackDescription description,
                   const std::string& prefix, uint64_t dropout_stream);

  // Registers activation and gradient scratch for batches of up to `rows` = B x T positions
  // (and `memory_rows` = B x S encoder positions for cross-attention) in `plan`.
  void plan(MemoryPlan& plan, size_t rows, size_t memory_rows);

  // x0 [B, T, d] -> the stack's output [B, T, d]: x_L + N(d_L) (ResiDual),
  // N_final(N_top(x_L) + N_resi(d_L)) (SiameseNorm), N(x_L) or x_L.
  // key_len [B] masks padded keys of self-attention (nullptr: none); a decoder reads the
  // encoder output `memory` [B, S, d] with memory_len [B] valid positions per row.
  const float* forward(const float* x0, int B, int T, const int32_t* key_len,
                       const float* memory = nullptr, const int32_t* memory_len = nullptr,
                       int S = 0);
  // Backward of the last forward: g_output -> g_x0 (overwritten). A decoder accumulates the
  // gradient w.r.t. the memory into g_memory [B, S, d].
  void backward(float* g_x0, const float* g_output, float* g_memory = nullptr);

  // Incremental decoding (transformer_stack_step.cpp): `rows` new positions, all at position
  // `pos`, x0 [rows, d] -> output [rows, d] (in the cache's scratch). Appends each row's K and V
  // to `cache`; cross-attention reads the memory the cache holds (set_memory). Inference only.
  const float* step(const float* x0, int rows, int pos, KVCache& cache) const;
  // Projects the encoder output of `sources` sentences, memory [sources, S, d], into every
  // cross-attention layer's K and V in `cache` (once per batch of sources).
  void set_memory(KVCache& cache, const float* memory, const int32_t* memory_len, int sources,
                  int S) const;
  // Lays out `buffers` for steps of up to `rows` rows and set_memory of up to `memory_rows`
  // encoder positions (the KV cache's constructor).
  void plan_step(StepBuffers& buffers, int rows, int memory_rows) const;

  const StackDescription& description() const { return desc_; }
  const std::vector<Sublayer>& sublayers() const { return subs_; }
  int sublayers_per_block() const { return per_block_; }
  const ModelShape& shape() const { return shape_; }
  const float* output() const { return out_.h; }
  // The last hidden state x_L of the last forward (before any final norm).
  const float* top() const { return subs_.back().x_out; }
  const float* input() const { return x_in0_; }
  int batch() const { return B_; }
  int seq() const { return T_; }
  int memory_seq() const { return S_; }

  bool training = true;       // dropout on
  uint64_t dropout_seed = 0;  // set by the model per micro-batch
  // Probes (diag/probes.hpp): when on, forward records the attention entropy of every row and
  // backward the Frobenius norm of the gradient w.r.t. each block's input and each sublayer's
  // output F(u). Off, they cost nothing.
  bool record_probes = false;
  // Admin's profiling pass (Liu et al. 2020, Algorithm 1; model/shortcut_profile.cpp): when on,
  // the next forward sets the omega of every 'w' sublayer, bottom up, to the stack's running
  // ratio r (omega_1 = 1, then r <- sqrt(Var[alpha omega x] + Var[dt y]), each variance over every
  // element of the batch) and computes with it.
  bool profile_shortcuts = false;
  const std::vector<double>& grad_block_input() const { return grad_block_input_; }
  const std::vector<double>& grad_sublayer_output() const { return grad_sublayer_output_; }

 private:
  // One forward pass through the sublayers: a training (or evaluation) forward over B sequences
  // of T positions, or a decoding step of `rows` = B new positions (T = 1) at position `pos`,
  // whose attention reads its keys and values from `cache`. The buffers all sublayers share are
  // the stack's planned ones or the cache's (StepBuffers).
  struct Pass {
    int rows = 0, B = 0, T = 0, S = 0;
    const int32_t* key_len = nullptr;  // self-attention's key padding (forward)
    const float* memory = nullptr;     // cross-attention's encoder output [B, S, d] (forward)
    const int32_t* memory_len = nullptr;
    KVCache* cache = nullptr;  // step
    int pos = 0;
    float *u = nullptr, *f = nullptr, *gelu = nullptr, *dual = nullptr, *inner = nullptr;
    bool dropout = false, probes = false;
    double* shortcut_ratio = nullptr;  // Admin's running ratio while profiling, else null
  };
  // Where attention reads q, k and v: a base pointer, the floats between rows, and the rows.
  struct QKVSource {
    const float* base[3];
    int stride[3];
    int rows[3];
  };

  void plan_sublayer(Sublayer& s, MemoryPlan& plan, size_t BT, size_t BS) const;
  const float* sublayer_input(const Sublayer& s, const float* x_eff, float* buffer, int rows) const;
  // 'D' (SiameseNorm): x_eff + N_dual(d) into the op's buffer, keeping d for the backward.
  const float* read_dual_stream(const Sublayer& s, const float* x_eff, const float* dual,
                                int rows) const;
  // x -> s.x_out through the recipe of `s`, writing into its buffers: the stack's own sublayers in
  // forward(), the cache's copies in step().
  void sublayer_forward(Sublayer& s, const Pass& pass, const float* x, const float* x_block,
                        int index) const;
  // Every block in order, from x0; returns x_L.
  const float* run_blocks(const Pass& pass, const float* x0, std::vector<Sublayer>& subs) const;
  // POST op j of `s` (block_ops.hpp) on `rows` rows: reads the current value v, writes
  // `out` and returns the new value (v itself for ops that only feed the dual stream or are the
  // identity). `mean`/`rstd` receive a norm's row statistics; dropout applies when
  // dropout_on (mask stream `stream`).
  const float* post_op(const Sublayer& s, size_t j, const float* v, float* out, const float* x_eff,
                       const float* x_block, float* dual, float* mean, float* rstd, int rows,
                       bool dropout_on, uint64_t stream, double* shortcut_ratio) const;
  // The stack's output from x_L (and the dual stream's d_L) into out.h: x_L + N_resi(d_L)
  // (ResiDual), [N_final](N_top(x_L) + N_resi(d_L)) (SiameseNorm), N_final(x_L) or x_L.
  void stack_output(const OutputBuffers& out, const float* x, const float* dual, int rows) const;
  // Its backward: g_output -> g_x (w.r.t. x_L) and g_dual_ (w.r.t. d_L).
  void stack_output_backward(float* g_x, const float* g_output);
  void sublayer_backward(Sublayer& s, float* g_in, const float* g_out, int index);
  QKVSource qkv_source(const Sublayer& s, int rows, int memory_rows) const;
  // 'q': part (0 q, 1 k, 2 v) gathered contiguous and normalised per head; src then points there.
  void normalize_part(const Sublayer& s, QKVSource& src, int part) const;
  // 'Q': part (0 q, 1 k) of a projection, `rows` rows `stride` floats apart from `base`,
  // normalised over all of d in place; its raw rows and statistics are kept for the backward.
  void normalize_projection(const Sublayer& s, float* base, int stride, int part, int rows) const;
  // 'u': q and k of self-attention's fused projection (`rows` rows) made unit per head, kept
  // for the backward, and written back in place scaled by s_qk (q also by hd: softmax scale
  // sqrt(hd) from a kernel that divides by sqrt(hd)). The backward turns the gradients w.r.t. the
  // scaled q and k in g_proj_ into the gradients w.r.t. the raw projections, in place.
  void unit_queries_keys(const Sublayer& s, int rows) const;
  void unit_queries_keys_backward(const Sublayer& s);
  // [k | v] = m Wkv^T + bkv of the encoder output m [src.rows[1], d] into s.mem_kv, then ('q') k
  // and v normalised per head; src then says where cross-attention's keys and values are.
  void memory_keys_values(const Sublayer& s, const float* memory, QKVSource& src) const;
  AttentionDims batch_attention_dims(const Sublayer& s, int B, int T, int S, const int32_t* key_len,
                                     const int32_t* memory_len) const;
  void attention_forward(Sublayer& s, const Pass& pass) const;
  void attention_backward(Sublayer& s, float* g_u, const float* g_f);
  // 'i' (Sub-LN): N_inner(h) into `buffer`, h [rows, width] the input of F's output projection
  // (attention's o, the MLP's gelu(h1)), or h itself without 'i'. The backward calls it again
  // to recompute the normalised rows instead of saving them per sublayer.
  const float* inner_norm(const Sublayer& s, const float* h, float* buffer, int rows) const;
  void mlp_forward(Sublayer& s, const Pass& pass) const;
  void mlp_backward(Sublayer& s, float* g_u, const float* g_f);

  ParamStore& params_;
  ModelShape shape_;
  StackDescription desc_;
  std::vector<Sublayer> subs_;  // per_block_ per block: attn, [cross,] mlp
  int per_block_ = 2;
  NormLayer final_norm_, resi_norm_, top_norm_;
  uint64_t dropout_stream_ = 0;

  // Shape of the last forward.
  int B_ = 0, T_ = 0, S_ = 0;
  const int32_t* key_len_ = nullptr;
  const float* memory_ = nullptr;
  const int32_t* memory_len_ = nullptr;
  const float* x_in0_ = nullptr;

  // Planned memory.
  float* dual_ = nullptr;
  OutputBuffers out_;
  float* u_ = nullptr;  // F's input u of the sublayer being computed (forward or backward)
  float* f_ = nullptr;  // F(u) of a sublayer that does not save it
  // Gradient scratch shared by all sublayers.
  float *g_stream_[2] = {nullptr, nullptr}, *g_post_[2] = {nullptr, nullptr}, *g_xeff_ = nullptr,
        *g_u_ = nullptr, *g_proj_ = nullptr, *g_kv_ = nullptr, *g_normed_ = nullptr,
        *g_raw_ = nullptr, *g_o_ = nullptr, *g_g_ = nullptr, *g_block_ = nullptr,
        *g_dual_ = nullptr;
  float* gelu_ = nullptr;      // gelu(h1) of the MLP being computed (recomputed in the backward)
  float* inner_ = nullptr;     // 'i': N_inner(o) or N_inner(gelu(h1)) of the sublayer computed
  float* g_memory_ = nullptr;  // the caller's, during backward
  std::vector<double> grad_block_input_, grad_sublayer_output_;
};

}  // namespace normlab
