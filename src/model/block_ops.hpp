// The letters of the block language, as one table (block_ops() below): for each op its letter,
// where it may stand, which sublayers allow it, the parameters it owns and what it saves for the
// backward. The table drives parsing and printing (block_description.cpp), parameter
// registration and memory planning (TransformerStack's constructor and plan()); the math of each
// op stays explicit in TransformerStack's forward and backward. The grammar and the equations
// are in block_description.hpp and docs/placements.md.
#pragma once
#include <cstdint>
#include <vector>

namespace normlab {

enum class Op : uint8_t {
  // PRE: what F sees.
  NormStream,    // N
  DualInput,     // D
  Norm,          // n
  ScaleByDepth,  // s
  QKVNorm,       // q (changes F itself)
  QKProjNorm,    // Q (changes F itself)
  UnitSublayer,  // u (changes F itself: nGPT)
  InnerNorm,     // i (changes F itself)
  // POST: steps on F's output y, in order.
  NormOut,         // n before 'a'
  Dropout,         // d
  DualStream,      // t
  ScaleBranch,     // s
  Residual,        // a
  SphereStep,      // h (the residual on the hypersphere: nGPT)
  ShortcutWeight,  // w (the residual with Admin's weighted shortcut)
  BlockInput,      // b
  NormPost,        // n after 'a'
  Count,           // not an op: the number of ops
};
constexpr int kOpCount = static_cast<int>(Op::Count);

// Where a letter may stand in "PRE|POST".
enum class OpPlace : uint8_t {
  Pre,             // before '|'
  BeforeResidual,  // after '|', before 'a'
  Residual,        // 'a', 'h' or 'w' itself (exactly one of them, once)
  AfterResidual,   // after 'a'
  AnyPost,         // anywhere after '|'
};

// Sublayers that allow an op (a bit mask).
enum SublayerMask : unsigned { kSelfAttention = 1, kCrossAttention = 2, kMLP = 4 };
constexpr unsigned kAttentionOnly = kSelfAttention | kCrossAttention;
constexpr unsigned kAnySublayer = kSelfAttention | kCrossAttention | kMLP;

// What an op keeps for the backward (bit mask), per part (q, k and v for 'q', else one). Rows are
// the sublayer's rows (k and v of cross-attention: the memory's); a per-head op's statistics have
// n_heads entries per row.
enum OpSaves : unsigned {
  kSavesInput = 1,   // its input, which nothing else keeps ('q', 'Q': q, k (v) before the norms;
                     // 'D': the dual stream d as this sublayer read it)
  kSavesOutput = 2,  // its output [rows, d] (POST: the new value of y; 'D': x + N(d))
  kSavesStats = 4,   // mean and 1/std of every normalised row
  kReadsInput = 8,   // its backward reads its input: the value before it must be kept
  kAliasWithoutDropout = 16,  // with dropout 0 its output is its input (no buffer)
};

// Scratch the whole stack needs when some sublayer uses the op (bit mask).
enum OpScratch : unsigned {
  kSharedInput = 1,      // writes F's input u into the stack's one u buffer
  kStreamGradient = 2,   // the gradient w.r.t. the normalised stream x_eff
  kPerHeadGradient = 4,  // gradients of q, k, v before and after their norms
  kBlockGradient = 8,    // the gradient reaching the block's input through 'b'
  kDualStream = 16,  // the second stream d (ResiDual, SiameseNorm), its output norm and gradient
  kInnerInput = 32,  // the normalised input of F's output projection ('i'), [rows, max(d, ff)]
};

// The width a norm normalises over.
enum class NormWidth : uint8_t {
  Model,   // d
  Head,    // d / heads
  Hidden,  // the input of F's output projection: d in attention, d_ff in the MLP
};

// A norm the op owns: "<sublayer>.<name>" in parameter names.
struct OpNorm {
  const char* name;
  NormWidth width;
};

struct OpSpec {
  Op op;
  char letter;
  OpPlace place;
  unsigned sublayers;  // SublayerMask
  const char* meaning;
  std::vector<OpNorm> norms;  // registered in this order, PRE ops before F's weights
  unsigned saves;             // OpSaves
  unsigned scratch;           // OpScratch
};

// Every op, in the order the stack registers their parameters (PRE, then POST). A new letter is
// an Op above and a row here, plus its forward and backward in transformer_stack.cpp. Letters
// follow Marian's transformer-preprocess/postprocess where they mean the same (d dropout, a add,
// n norm); ResiDual's dual stream is 't' ("tee": y also flows into the second stream) because
// Marian's 'r' is RMSNorm; SiameseNorm reads it back with 'D'. Equations and sources:
// docs/placements.md.
inline const std::vector<OpSpec>& block_ops() {
  // clang-format off
  static const std::vector<OpSpec> ops = {
    // op               letter place                  sublayers
    {Op::NormStream,   'N', OpPlace::Pre,            kAnySublayer,
     "the stream itself is normalised first, x = N(x) (HybridNorm's MLP)",
     {{"norm_stream", NormWidth::Model}}, kSavesOutput | kSavesStats, kStreamGradient},
    {Op::DualInput,    'D', OpPlace::Pre,            kAnySublayer,
     "F also reads the dual stream: u = x + N(d), before 'n' (SiameseNorm); the output becomes "
     "N_final(N_top(x_L) + N_resi(d_L))",
     {{"norm_dual", NormWidth::Model}}, kSavesInput | kSavesOutput | kSavesStats, kDualStream},
    {Op::Norm,         'n', OpPlace::Pre,            kAnySublayer,
     "F reads u = N(x) (Pre-LN)",
     {{"norm_in", NormWidth::Model}}, kSavesStats, kSharedInput},
    {Op::ScaleByDepth, 's', OpPlace::Pre,            kAnySublayer,
     "u = u / sqrt(l), l the 1-based block (LayerNorm Scaling)",
     {}, 0, kSharedInput},
    {Op::QKVNorm,      'q', OpPlace::Pre,            kAttentionOnly,
     "changes F itself: attention normalises each head's q, k and v (HybridNorm)",
     {{"q_norm", NormWidth::Head}, {"k_norm", NormWidth::Head}, {"v_norm", NormWidth::Head}},
     kSavesInput | kSavesOutput | kSavesStats, kPerHeadGradient},
    {Op::QKProjNorm,   'Q', OpPlace::Pre,            kAttentionOnly,
     "changes F itself: attention normalises its whole q and k projections (width d, before the "
     "head split; OLMo-2)",
     {{"q_proj_norm", NormWidth::Model}, {"k_proj_norm", NormWidth::Model}},
     kSavesInput | kSavesOutput | kSavesStats, kPerHeadGradient},
    {Op::UnitSublayer, 'u', OpPlace::Pre,            kSelfAttention | kMLP,
     "changes F itself (nGPT): no biases; attention's q and k unit per head, times s_qk, with "
     "softmax scale sqrt(hd); the MLP's fc1 output times s_v sqrt(d). Its scales and buffers: "
     "TransformerStack",
     {}, 0, kPerHeadGradient},
    {Op::InnerNorm,    'i', OpPlace::Pre,            kAnySublayer,
     "changes F itself: a norm on the input of F's output projection, attention's concatenated "
     "heads before Wproj or the MLP's gelu(fc1(u)) before fc2 (Sub-LN, Magneto)",
     {{"inner_norm", NormWidth::Hidden}}, kSavesStats, kInnerInput},
    {Op::NormOut,      'n', OpPlace::BeforeResidual, kAnySublayer,
     "y = N(y) before 'a' (Peri-LN's output norm)",
     {{"norm_out", NormWidth::Model}}, kSavesOutput | kSavesStats | kReadsInput, 0},
    {Op::Dropout,      'd', OpPlace::AnyPost,        kAnySublayer,
     "y = dropout(y)",
     {}, kSavesOutput | kAliasWithoutDropout, 0},
    {Op::DualStream,   't', OpPlace::BeforeResidual, kAnySublayer,
     "tee: d = d + y into ResiDual's dual stream, y goes on; the output becomes x_L + N(d_L)",
     {}, 0, kDualStream},
    {Op::ScaleBranch,  's', OpPlace::BeforeResidual, kAnySublayer,
     "y = y / sqrt(2l), l the 1-based block (SiameseNorm's branch scale)",
     {}, kSavesOutput, 0},
    {Op::Residual,     'a', OpPlace::Residual,       kAnySublayer,
     "y = alpha x + dt y (the residual)",
     {}, kSavesOutput, 0},
    {Op::SphereStep,   'h', OpPlace::Residual,       kSelfAttention | kMLP,
     "the residual on the hypersphere (nGPT): y = Norm(Norm(x) + |alpha| (Norm(y) - Norm(x))), "
     "alpha the sublayer's eigen learning rate (kernels/sphere.hpp)",
     {}, kSavesOutput, 0},
    {Op::ShortcutWeight, 'w', OpPlace::Residual,     kAnySublayer,
     "the residual with a learned shortcut weight (Admin): y = alpha omega x + dt y, omega [d] "
     "set by the profiling pass at initialisation (model/shortcut_profile.cpp)",
     {}, kSavesOutput, 0},
    {Op::BlockInput,   'b', OpPlace::AfterResidual,  kAnySublayer,
     "y = y + x_block, the block's input (B2T connection)",
     {}, kSavesOutput, kBlockGradient},
    {Op::NormPost,     'n', OpPlace::AfterResidual,  kAnySublayer,
     "y = N(y) after 'a': a post-norm (Post-LN)",
     {{"norm_post", NormWidth::Model}}, kSavesOutput | kSavesStats | kReadsInput, 0},
  };
  // clang-format on
  return ops;
}

const OpSpec& op_spec(Op op);
// The op spelled `letter` at `place`-compatible position: before '|' (pre), after '|' before or
// after 'a' (seen_residual). nullptr if no op has that letter there.
const OpSpec* find_op(char letter, bool pre, bool seen_residual);

}  // namespace normlab
