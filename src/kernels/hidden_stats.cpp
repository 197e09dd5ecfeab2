#include "kernels/hidden_stats.hpp"

#include <cmath>
#include <cstddef>

namespace normlab {

HiddenStats hidden_stats(const float* h, int B, int T, int d) {
  const size_t n = static_cast<size_t>(B) * T * d, per_seq = static_cast<size_t>(T) * d;
  double sum = 0, sum_sq = 0, sum_abs = 0, batch_var = 0;
#pragma omp parallel for reduction(+ : sum, sum_sq, sum_abs, batch_var)
  for (size_t k = 0; k < per_seq; ++k) {
    double s = 0, s2 = 0;
    for (int b = 0; b < B; ++b) {
      const double v = h[b * per_seq + k];
      s += v, s2 += v * v, sum_abs += std::fabs(v);
    }
    sum += s, sum_sq += s2;
    const double m = s / B;
    batch_var += s2 / B - m * m;
  }
  HiddenStats st;
  st.rms = std::sqrt(sum_sq / n);
  st.mean_abs = sum_abs / n;
  const double mean = sum / n;
  st.var = sum_sq / n - mean * mean;
  st.batch_var = batch_var / per_seq;
  return st;
}

}  // namespace normlab
