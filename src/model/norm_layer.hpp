// One normalization instance: which function (LayerNorm, RMSNorm, DyT), its parameters in the
// ParamStore, and the dispatch to the kernels in kernels/norms.hpp.
#pragma once
#include <string>

#include "model/params.hpp"

namespace normlab {

enum class NormKind { LayerNorm, RMSNorm, DyT };
NormKind parse_norm_kind(const std::string& name);

struct NormLayer {
  NormKind kind = NormKind::LayerNorm;
  int width = 0;
  float eps = 1e-5f;
  long weight = -1, bias = -1, alpha = -1;  // ParamStore indices (-1: absent)

  // Registers NAME.weight / NAME.bias / NAME.alpha as this kind needs.
  static NormLayer create(ParamStore& params, const std::string& name, NormKind kind, int width,
                          float eps);
  // `mean` and `rstd` hold N floats each (unused by DyT). rstd = 1/std of each input row: the
  // factor by which this norm scales the gradient passing through it.
  void forward(ParamStore& p, float* out, float* mean, float* rstd, const float* in, int N) const;
  // din = J^T dout (din may be dout); parameter gradients accumulate into the store.
  void backward(ParamStore& p, float* din, const float* dout, const float* in, const float* mean,
                const float* rstd, int N) const;
};

}  // namespace normlab
