// The composable block description. A placement is a preset of it, and a new design is a config
// value (`block`), not a code change. The letters are one table, block_ops.cpp (its meaning, where
// it may stand, its parameters and what it saves); the equations and sources of every preset are
// in docs/placements.md.
//
// A sublayer recipe reads "PRE|POST" and describes x -> x' around a sublayer F (attn, cross or
// mlp):
//   PRE, applied to what F sees:   N  the stream itself is normalised first, x = N(x)
//                                  n  u = N(x)            s  u = u / sqrt(l)  (LayerNorm Scaling)
//                                  q  (attn, cross) modifies F itself, not its input: attention
//                                     normalises each head's q, k and v (HybridNorm)
//                                  Q  (attn, cross) modifies F itself: attention normalises its
//                                     whole q and k projections, before the head split (OLMo-2)
//                                  u  (attn, mlp) F on the hypersphere (nGPT): no biases, q and k
//                                     unit per head times s_qk, softmax scale sqrt(hd); the MLP's
//                                     fc1 output times s_v sqrt(d)
//                                  i  modifies F itself: a norm on the input of F's output
//                                     projection, attention's heads before Wproj, the MLP's
//                                     gelu(fc1 u) before fc2 (Sub-LN, Magneto)
//   POST, applied in order to y = F(u):
//                                  n  y = N(y) before 'a' (Peri-LN's output norm), after 'a'
//                                     y = N(y) is a post-norm (Post-LN)
//                                  d  dropout             t  tee into the dual stream, d += y
//                                                            (ResiDual; output x_L + N(d_L))
//                                  a  y = alpha x + dt y  b  y = y + x_block (B2T connection)
//                                  s  y = y / sqrt(2l) before 'a' (SiameseNorm's branch scale)
//                                  h  instead of 'a': y = Norm(Norm(x) + |alpha| (Norm(y) -
//                                     Norm(x))), nGPT's step with its eigen learning rate alpha
//                                  w  instead of 'a': y = alpha omega x + dt y, Admin's learned
//                                     shortcut weight omega [d] (set by a profiling pass)
// A block reads "attn:PRE|POST [cross:PRE|POST] mlp:PRE|POST". Examples: Pre-LN
// "attn:n|da mlp:n|da", Post-LN "attn:|dan mlp:|dan", B2T "attn:|dan mlp:|dabn", nGPT
// "attn:u|dh mlp:u|dh", Admin "attn:|dwn mlp:|dwn".
// Marian's letters (d dropout, a add, n LayerNorm) mean the same here; Marian's 'r' (RMSNorm) is
// not a letter: the norm function is the `norm` option, and ResiDual's letter is 't'.
#pragma once
#include <string>
#include <vector>

#include "model/block_ops.hpp"

namespace normlab {

class Config;

struct SublayerRecipe {
  std::vector<Op> pre;   // in the order written
  std::vector<Op> post;  // in the order applied
  bool has(Op op) const;
  // Some op of the recipe needs this stack-wide scratch (block_ops.hpp, OpScratch).
  bool needs(unsigned scratch) const;
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
// a letter in a sublayer or on a side of 'a' its row in block_ops.cpp does not allow, a letter
// repeated). `sublayer` is one SublayerMask bit.
SublayerRecipe parse_sublayer(const std::string& text, unsigned sublayer,
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
  bool dual_stream = false;  // some recipe uses 't' or 'D': the stack carries a second stream d
  // Some recipe reads d back ('D', SiameseNorm): the output is N_final(N_top(x_L) + N_resi(d_L))
  // (N_final if final_norm); else a dual stream's output is ResiDual's x_L + N_resi(d_L).
  bool dual_input = false;
  // Every sublayer steps with 'h' (nGPT): the model keeps the token embedding's rows unit and
  // scales the logits by s_z (model.hpp).
  bool on_sphere = false;
  float dt = 1.0f;  // the residual step: the dt option times CompleteP's m_L^-alpha
  float alpha = 1.0f;
  // CompleteP (model/completep.hpp): AdamW's multipliers of lr and adam_eps for every tensor of
  // the stack's blocks (1 when completep_alpha is off).
  float block_lr_scale = 1.0f, block_eps_scale = 1.0f;
  std::string init;        // resolved scheme (never "auto")
  float init_gain = 1.0f;  // deepnorm's beta or T-Fixup's factor for this stack (init.cpp)
};

StackDescription describe_stack(const Config& config, StackRole role = StackRole::LanguageModel);
// The config as YAML (Config::dump_yaml) with, under its `block` line, the block description of
// every layer of each stack as resolved by describe_stack, and under `completep_base_depth` the
// resolved CompleteP multipliers (comment lines, so that it reads back as the same config): what
// --dump-config prints and a run's config.yaml holds.
std::string dump_config_with_layers(const Config& config);
// "1", "0.1", "1/L", "1/sqrt(L)" -> value for L layers.
float parse_dt(const std::string& text, int n_layers);

}  // namespace normlab
