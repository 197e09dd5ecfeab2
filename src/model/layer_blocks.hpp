// Per-layer designs: a `block` value that gives each range of layers its own block description,
// "0-3: post, 4-: pre" (docs/placements.md, "Per-layer designs"). Mix-LN (Li et al. 2024) is the
// two-range case its options lower_block and lower_fraction write (describe_stack).
//
// Grammar: ENTRY [, ENTRY]...   ENTRY = RANGE ":" BLOCK
//   RANGE  "A-B" (layers A to B, both included), "A-" (A to the last layer) or "A"; 0-based, as
//          in parameter names; together the ranges cover every layer exactly once.
//   BLOCK  a block description ("attn:n|da mlp:n|da"), or the name of a placement preset, which
//          stands for its preset's `block` only (its final_norm, residual_alpha and init stay
//          stack-wide options).
#pragma once
#include <string>
#include <vector>

#include "model/block_description.hpp"

namespace normlab {

// A per-layer list rather than one block description: its first non-blank character is a digit.
bool is_layer_list(const std::string& text);

// The block of each of `layers` layers, from a per-layer list. `where` names the option in
// errors, `stack` the stack whose depth is checked ("" for the LM, "encoder", "decoder").
// Throws UserError("<where>: ...") for a malformed entry, an unknown name, overlapping or
// missing layers, or a range beyond the stack's depth.
std::vector<BlockRecipe> parse_layer_list(const std::string& text, int layers,
                                          const std::string& where, const std::string& stack);

// Back to the list form, equal neighbours merged: "0-1: attn:|dan mlp:|dan, 2-3: attn:n|da ...".
std::string layer_list_text(const std::vector<BlockRecipe>& blocks);

}  // namespace normlab
