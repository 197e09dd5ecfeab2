// Per-block update size of an optimizer step, the quantity that decides under Adam whether a
// block learns (docs/sanity-check.md, "Evidence"):
//   update ratio  |W_after - W_before|_F / |W_before|_F    over all of block l's parameters
//   gradient rms  sqrt(mean g^2)                            over the same (the gradient the
//                                                           optimizer saw, after clipping)
// Adam divides the update by sqrt(v) + eps: a block whose gradient rms is far below eps gets an
// update shrunk by about rms/eps, so the gradient rms is compared with eps. Blocks are the
// parameters named "blocks.<l>." by TransformerStack (0-based l); the embeddings and the final
// norm belong to no block.
#pragma once
#include <string>
#include <vector>

#include "model/params.hpp"

namespace normlab {

class BlockUpdates {
 public:
  // Groups the entries of `params` named "<prefix>blocks.<l>." by l.
  explicit BlockUpdates(const ParamStore& params, const std::string& prefix = "");
  int blocks() const { return static_cast<int>(entries_.size()); }
  // Copies the parameter values, before the step to be measured.
  void snapshot(const ParamStore& params);
  // |W - W_snapshot| / |W_snapshot| of every block (0 for a block whose values were all zero).
  std::vector<double> update_ratios(const ParamStore& params) const;
  // sqrt(mean g^2) of every block's gradients.
  std::vector<double> grad_rms(const ParamStore& params) const;

 private:
  std::vector<std::vector<size_t>> entries_;  // per block: entry indices
  std::vector<float> before_;
};

}  // namespace normlab
