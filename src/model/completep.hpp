// CompleteP's depth parametrisation (Dey et al. 2025, "Don't be lazy: CompleteP enables
// compute-efficient deep transformers", arXiv 2505.01618, Table 1; official code
// EleutherAI/nanoGPT-mup, branch completep). With the depth multiplier m_L = L / L_base:
//   residual branches       x <- x + m_L^-alpha F(x)           (the model: the stack's dt)
//   tensors inside blocks   AdamW lr * m_L^(alpha-1), eps * m_L^-alpha   (the optimizer)
//   embeddings, final norm  lr and eps unchanged
// alpha = 1 is CompleteP, alpha = 0.5 depth-muP (Yang et al. 2024). normlab scales depth only:
// the width multiplier m_N of the paper's muP part is 1 (the base width is the model's).
// docs/placements.md has the whole table and its sources.
#pragma once

namespace normlab {

class Config;

struct CompleteP {
  bool on = false;
  double alpha = 1.0;  // in [0.5, 1]
  int base_depth = 2;  // L_base

  // From completep_alpha ("off" or a number in [0.5, 1]) and completep_base_depth; throws
  // UserError("option 'completep_alpha': ...") on anything else.
  static CompleteP from_config(const Config& config);
  // m_L^-alpha, the residual branch's multiplier of a stack of L blocks (1 when off).
  double residual_scale(int L) const;
  // m_L^(alpha-1), the learning-rate multiplier of the tensors inside its blocks (1 when off).
  double block_lr_scale(int L) const;
  // m_L^-alpha, the multiplier of adam_eps of the same tensors (1 when off).
  double block_eps_scale(int L) const;
};

}  // namespace normlab
