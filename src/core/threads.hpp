// Thread settings for a training process: the OpenMP thread count, and flush-to-zero /
// denormals-are-zero on every OpenMP worker (subnormal floats can slow f32 arithmetic by an order
// of magnitude, and no value in training is meaningfully that small).
#pragma once

namespace normlab {

// n > 0 sets the OpenMP thread count; FTZ/DAZ are set on the calling thread and on each worker.
void configure_threads(int n);
// The OpenMP threads a parallel region uses now (what configure_threads(0) leaves: all cores).
int thread_count();

}  // namespace normlab
