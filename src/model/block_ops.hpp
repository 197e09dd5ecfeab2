// The letters of the block language, as one table (block_ops.cpp): for each op its letter, where
// it may stand, which sublayers allow it, the parameters it owns and what it saves for the
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
  Norm,          // n
  ScaleByDepth,  // s
  QKVNorm,       // q (modifies F itself)
  // POST: steps on F's output y, in order.
  NormOut,     // n before 'a'
  Dropout,     // d
  DualStream,  // t
  Residual,    // a
  BlockInput,  // b
  NormPost,    // n after 'a'
};
constexpr int kOpCount = 10;

// Where a letter may stand in "PRE|POST".
enum class OpPlace : uint8_t {
  Pre,             // before '|'
  BeforeResidual,  // after '|', before 'a'
  Residual,        // 'a' itself (exactly once)
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
  kSavesInput = 1,   // its input, which nothing else keeps ('q': q, k, v before their norms)
  kSavesOutput = 2,  // its output [rows, d] (POST: the new value of y)
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
  kDualStream = 16,      // ResiDual's second stream d, its output norm and its gradient
};

// A norm the op owns: "<sublayer>.<name>" in parameter names, over d or over a head (d/heads).
struct OpNorm {
  const char* name;
  bool per_head;
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

// Every op, in the order the stack registers their parameters (PRE, then POST).
const std::vector<OpSpec>& block_ops();
const OpSpec& op_spec(Op op);
// The op spelled `letter` at `place`-compatible position: before '|' (pre), after '|' before or
// after 'a' (seen_residual). nullptr if no op has that letter there.
const OpSpec* find_op(char letter, bool pre, bool seen_residual);

}  // namespace normlab
