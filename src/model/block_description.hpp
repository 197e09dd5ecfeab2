// The composable block description. A placement is a preset of it, and a new design is a config
// value (`block`), not a code change.
//
// A sublayer recipe reads "PRE|POST" and describes x -> x' around a sublayer F (attn or mlp):
//   PRE, applied to what F sees:   N  the stream itself is normalised first, x = N(x)
//                                  n  u = N(x)            s  u = u / sqrt(l)  (LayerNorm Scaling)
//                                  q  (attn) per-head norms of q, k and v (HybridNorm)
//   POST, applied in order to y = F(u):
//                                  n  y = N(y) before 'a' (Peri-LN's output norm), after 'a'
//                                     y = N(y) is a post-norm (Post-LN)
//                                  d  dropout             r  dual stream d += y (ResiDual)
//                                  a  y = alpha x + dt y  b  y = y + x_block (B2T connection)
// A block reads "attn:PRE|POST mlp:PRE|POST". Examples: Pre-LN "attn:n|da mlp:n|da",
// Post-LN "attn:|dan mlp:|dan", B2T "attn:|dan mlp:|dabn" (docs/model.md has every preset).
#pragma once
#include <string>
#include <vector>

namespace normlab {

class Config;

enum class PreOp { NormStream, Norm, ScaleByDepth, QKVNorm };
enum class PostOp { NormOut, Dropout, Dual, Residual, BlockInput, NormPost };

struct SublayerRecipe {
  std::vector<PreOp> pre;
  std::vector<PostOp> post;
  bool has(PreOp op) const;
  bool has(PostOp op) const;
  std::string text() const;  // back to "PRE|POST"
};

// A block: self-attention, then (encoder–decoder decoder only) cross-attention to the encoder's
// output, then the MLP. 'b' adds the block's input to whichever sublayer carries it.
struct BlockRecipe {
  SublayerRecipe attn, cross, mlp;
  bool has_cross = false;    // a "cross:" part was given (else a decoder copies attn's recipe)
  std::string text() const;  // "attn:..|.. [cross:..|..] mlp:..|.."
};

// Throws UserError("<origin>: ...") on a malformed description (unknown letter, missing 'a',
// 'q' outside attn, a letter repeated where it makes no sense).
SublayerRecipe parse_sublayer(const std::string& text, bool is_attention,
                              const std::string& origin);
BlockRecipe parse_block(const std::string& text, const std::string& origin);

// Which stack is being described: the decoder-only LM (n_layers blocks), or the encoder
// (encoder_layers blocks) or decoder (n_layers blocks, with cross-attention) of arch=encdec.
enum class StackRole { LanguageModel, Encoder, Decoder };

// Everything the model needs to know about the stack's wiring, resolved from the config.
struct StackDescription {
  StackRole role = StackRole::LanguageModel;
  int layers = 0;
  std::vector<BlockRecipe> blocks;  // one per layer; has_cross set on every decoder block
  bool final_norm = false;
  bool dual_stream = false;  // some recipe uses 'r' (ResiDual): output x_L + N(d_L)
  float dt = 1.0f;
  float alpha = 1.0f;
  std::string init;        // resolved scheme (never "auto")
  float init_gain = 1.0f;  // deepnorm's beta or T-Fixup's factor for this stack (init.cpp)
};

StackDescription describe_stack(const Config& config, StackRole role = StackRole::LanguageModel);
// "1", "0.1", "1/L", "1/sqrt(L)" -> value for L layers.
float parse_dt(const std::string& text, int n_layers);

}  // namespace normlab
