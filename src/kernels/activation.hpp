// GELU, tanh approximation (Hendrycks & Gimpel 2016; as GPT-2 and
// torch.nn.functional.gelu(approximate="tanh")):
//   gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
#pragma once
#include <cstddef>

namespace normlab {

void gelu_forward(float* out, const float* in, size_t n);
// din = dout * gelu'(in), overwritten; din may be dout (in place).
void gelu_backward(float* din, const float* dout, const float* in, size_t n);

}  // namespace normlab
