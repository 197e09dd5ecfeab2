#include "core/threads.hpp"

#include <omp.h>
#include <xmmintrin.h>

namespace normlab {

void configure_threads(int n) {
  if (n > 0) omp_set_num_threads(n);
  // MXCSR is per thread; libgomp keeps its workers, so setting it once in a parallel region lasts.
  constexpr unsigned kFlushToZero = 0x8000, kDenormalsAreZero = 0x0040;
#pragma omp parallel
  _mm_setcsr(_mm_getcsr() | kFlushToZero | kDenormalsAreZero);
  _mm_setcsr(_mm_getcsr() | kFlushToZero | kDenormalsAreZero);
}

int thread_count() {
  return omp_get_max_threads();
}

}  // namespace normlab
