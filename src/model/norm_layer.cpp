#include "model/norm_layer.hpp"

#include "core/config.hpp"
#include "kernels/norms.hpp"

namespace normlab {

NormKind parse_norm_kind(const std::string& name) {
  if (name == "layernorm") return NormKind::LayerNorm;
  if (name == "rmsnorm") return NormKind::RMSNorm;
  if (name == "dyt") return NormKind::DyT;
  throw UserError("option 'norm': unknown normalization '" + name + "'");
}

NormLayer NormLayer::create(ParamStore& params, const std::string& name, NormKind kind, int width,
                            float eps) {
  NormLayer n;
  n.kind = kind;
  n.width = width;
  n.eps = eps;
  if (kind == NormKind::DyT)
    n.alpha = static_cast<long>(params.add(name + ".alpha", {1}, ParamRole::Norm));
  n.weight = static_cast<long>(params.add(name + ".weight", {width}, ParamRole::Norm));
  if (kind != NormKind::RMSNorm)
    n.bias = static_cast<long>(params.add(name + ".bias", {width}, ParamRole::Norm));
  return n;
}

void NormLayer::forward(ParamStore& p, float* out, float* mean, float* rstd, const float* in,
                        int N) const {
  switch (kind) {
    case NormKind::LayerNorm:
      layernorm_forward(out, mean, rstd, in, p.value(weight), p.value(bias), N, width, eps);
      break;
    case NormKind::RMSNorm:
      rmsnorm_forward(out, rstd, in, p.value(weight), N, width, eps);
      break;
    case NormKind::DyT:
      dyt_forward(out, in, p.value(alpha), p.value(weight), p.value(bias), N, width);
      break;
  }
}

void NormLayer::backward(ParamStore& p, float* din, const float* dout, const float* in,
                         const float* mean, const float* rstd, int N) const {
  switch (kind) {
    case NormKind::LayerNorm:
      layernorm_backward(din, p.grad(weight), p.grad(bias), dout, in, p.value(weight), mean, rstd,
                         N, width);
      break;
    case NormKind::RMSNorm:
      rmsnorm_backward(din, p.grad(weight), dout, in, p.value(weight), rstd, N, width);
      break;
    case NormKind::DyT:
      dyt_backward(din, p.grad(alpha), p.grad(weight), p.grad(bias), dout, in, p.value(alpha),
                   p.value(weight), N, width);
      break;
  }
}

}  // namespace normlab
