// Inverted dropout (Srivastava et al. 2014): out = in * mask / (1 - p), mask ~ Bernoulli(1 - p).
// The mask for element i is drawn from the counter-based RNG at (seed, stream, i), so it does
// not depend on the thread count. p == 0 copies; out may be in (in place).
#pragma once
#include <cstddef>
#include <cstdint>

namespace normlab {

void dropout_forward(float* out, const float* in, float p, uint64_t seed, uint64_t stream,
                     size_t n);
// din = dout * mask / (1 - p), recomputing the mask from (seed, stream); din may be dout.
void dropout_backward(float* din, const float* dout, float p, uint64_t seed, uint64_t stream,
                      size_t n);

}  // namespace normlab
