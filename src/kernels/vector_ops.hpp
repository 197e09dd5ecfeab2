// Whole-buffer vector operations shared by the stack, the model, the optimizer and the probes:
// y += x, y *= s, y = 0, and the sum of squares behind gradient-norm clipping. Each runs over
// every thread once the buffer is large enough for the fork to pay, and gives bit-identical
// results for any thread count (elementwise, or reduced in an order fixed by n alone).
#pragma once
#include <cstddef>

namespace normlab {

// y += x (a fan-in of gradients: a residual shortcut meeting its branch, B2T, a shared weight).
// y may equal x.
void add_inplace(float* y, const float* x, size_t n);
void scale_inplace(float* y, float s, size_t n);
// y = 0 with every thread (a serial memset of a large buffer leaves the other threads waiting).
void zero(float* y, size_t n);

// sum_i x_i^2 accumulated in double, in chunks of fixed size added in chunk order, so that the
// gradient norm does not depend on the thread count.
double sum_squares(const float* x, size_t n);
// The population variance of x's n elements (numpy's np.var of the whole tensor), two passes in
// double, serial: Admin's profiling pass (model/shortcut_profile.cpp) calls it once per sublayer.
double population_variance(const float* x, size_t n);

}  // namespace normlab
