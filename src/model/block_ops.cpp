// The op table of the block language (block_ops.hpp). Letters follow Marian's
// transformer-preprocess/postprocess spirit (d dropout, a add, n norm) where they mean the same;
// ResiDual's dual stream is 't' ("tee": y also flows into the second stream), because Marian's
// 'r' is RMSNorm. Equations and sources: docs/placements.md.
#include "model/block_ops.hpp"

#include <stdexcept>

namespace normlab {

const std::vector<OpSpec>& block_ops() {
  static const std::vector<OpSpec> ops = {
      {Op::NormStream,
       'N',
       OpPlace::Pre,
       kAnySublayer,
       "the stream itself is normalised first, x = N(x) (HybridNorm's MLP)",
       {{"norm_stream", false}},
       kSavesOutput | kSavesStats,
       kStreamGradient},
      {Op::Norm,
       'n',
       OpPlace::Pre,
       kAnySublayer,
       "F reads u = N(x) (Pre-LN)",
       {{"norm_in", false}},
       kSavesStats,
       kSharedInput},
      {Op::ScaleByDepth,
       's',
       OpPlace::Pre,
       kAnySublayer,
       "u = u / sqrt(l), l the 1-based block (LayerNorm Scaling)",
       {},
       0,
       kSharedInput},
      {Op::QKVNorm,
       'q',
       OpPlace::Pre,
       kAttentionOnly,
       "modifies F itself: attention normalises each head's q, k and v (HybridNorm)",
       {{"q_norm", true}, {"k_norm", true}, {"v_norm", true}},
       kSavesInput | kSavesOutput | kSavesStats,
       kPerHeadGradient},
      {Op::NormOut,
       'n',
       OpPlace::BeforeResidual,
       kAnySublayer,
       "y = N(y) before 'a' (Peri-LN's output norm)",
       {{"norm_out", false}},
       kSavesOutput | kSavesStats | kReadsInput,
       0},
      {Op::Dropout,
       'd',
       OpPlace::AnyPost,
       kAnySublayer,
       "y = dropout(y)",
       {},
       kSavesOutput | kAliasWithoutDropout,
       0},
      {Op::DualStream,
       't',
       OpPlace::BeforeResidual,
       kAnySublayer,
       "tee: d = d + y into ResiDual's dual stream, y goes on unchanged; the stack's output "
       "becomes x_L + N(d_L)",
       {},
       0,
       kDualStream},
      {Op::Residual,
       'a',
       OpPlace::Residual,
       kAnySublayer,
       "y = alpha x + dt y (the residual)",
       {},
       kSavesOutput,
       0},
      {Op::BlockInput,
       'b',
       OpPlace::AfterResidual,
       kAnySublayer,
       "y = y + x_block, the block's input (B2T connection)",
       {},
       kSavesOutput,
       kBlockGradient},
      {Op::NormPost,
       'n',
       OpPlace::AfterResidual,
       kAnySublayer,
       "y = N(y) after 'a': a post-norm (Post-LN)",
       {{"norm_post", false}},
       kSavesOutput | kSavesStats | kReadsInput,
       0},
  };
  return ops;
}

const OpSpec& op_spec(Op op) {
  for (const OpSpec& s : block_ops())
    if (s.op == op) return s;
  throw std::logic_error("op_spec: op missing from block_ops()");
}

const OpSpec* find_op(char letter, bool pre, bool seen_residual) {
  const OpSpec* any = nullptr;
  for (const OpSpec& s : block_ops()) {
    if (s.letter != letter || (s.place == OpPlace::Pre) != pre) continue;
    const bool fits = pre || s.place == OpPlace::AnyPost || s.place == OpPlace::Residual ||
                      (s.place == OpPlace::AfterResidual) == seen_residual;
    if (fits) return &s;
    any = &s;
  }
  return any;  // the letter exists here but not on this side of 'a' (the parser says so)
}

}  // namespace normlab
