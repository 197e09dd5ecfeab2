#include "kernels/sphere.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace normlab {

namespace {
double dot_row(const float* a, const float* b, int n) {
  double s = 0.0;
  for (int j = 0; j < n; ++j) s += static_cast<double>(a[j]) * b[j];
  return s;
}
}  // namespace

void unit_rows_forward(float* out, float* rnorm, const float* in, size_t rows, int width) {
#pragma omp parallel for if (rows * width >= 32768)
  for (size_t r = 0; r < rows; ++r) {
    const float* x = in + r * width;
    float* o = out + r * width;
    const float inv = static_cast<float>(1.0 / std::sqrt(dot_row(x, x, width)));
    for (int j = 0; j < width; ++j) o[j] = x[j] * inv;
    if (rnorm) rnorm[r] = inv;
  }
}

void unit_rows_backward(float* din, const float* dout, const float* out, const float* rnorm,
                        size_t rows, int width) {
#pragma omp parallel for if (rows * width >= 32768)
  for (size_t r = 0; r < rows; ++r) {
    const float* o = out + r * width;
    const float* g = dout + r * width;
    float* dx = din + r * width;
    const float s = static_cast<float>(dot_row(o, g, width));
    for (int j = 0; j < width; ++j) dx[j] = rnorm[r] * (g[j] - o[j] * s);
  }
}

void unit_matrix(float* w, size_t r, size_t c, bool rows) {
  if (rows) {
    unit_rows_forward(w, nullptr, w, r, static_cast<int>(c));
    return;
  }
#pragma omp parallel for if (r * c >= 32768)
  for (size_t j = 0; j < c; ++j) {
    double s = 0.0;
    for (size_t i = 0; i < r; ++i) s += static_cast<double>(w[i * c + j]) * w[i * c + j];
    const float inv = static_cast<float>(1.0 / std::sqrt(s));
    for (size_t i = 0; i < r; ++i) w[i * c + j] *= inv;
  }
}

void sphere_step_forward(float* out, float* xn, float* yn, float* rnorm_x, float* rnorm_y,
                         float* rnorm_sum, const float* x, const float* y, const float* theta,
                         float c, size_t rows, int d) {
  unit_rows_forward(xn, rnorm_x, x, rows, d);
  unit_rows_forward(yn, rnorm_y, y, rows, d);
#pragma omp parallel for if (rows * d >= 32768)
  for (size_t r = 0; r < rows; ++r) {
    const float *a = xn + r * d, *b = yn + r * d;
    float* o = out + r * d;
    for (int j = 0; j < d; ++j) o[j] = a[j] + std::abs(theta[j] * c) * (b[j] - a[j]);
  }
  unit_rows_forward(out, rnorm_sum, out, rows, d);
}

// With s = xn + a (yn - xn) and out = Norm(s):
//   ds = rnorm_sum (dout - out <out, dout>),  da_j = sum_r ds_j (yn_j - xn_j),
//   dxn = (1 - a) ds,  dyn = a ds,  then back through Norm(x) and Norm(y).
void sphere_step_backward(float* dx, float* dy, float* dtheta, const float* dout, const float* out,
                          const float* xn, const float* yn, const float* rnorm_x,
                          const float* rnorm_y, const float* rnorm_sum, const float* theta, float c,
                          size_t rows, int d) {
  float* ds = dy;  // scratch until the last pass
  unit_rows_backward(ds, dout, out, rnorm_sum, rows, d);
  // dtheta_j += c sign(theta_j c) sum_r ds_j (yn_j - xn_j), with dx (overwritten below) holding
  // yn - xn.
#pragma omp simd
  for (size_t i = 0; i < rows * d; ++i) dx[i] = yn[i] - xn[i];
  std::vector<float> da(static_cast<size_t>(d), 0.0f);
  accumulate_column_products(da.data(), ds, d, dx, d, rows, d, 1.0f);
  for (int j = 0; j < d; ++j) {
    const float tc = theta[j] * c;
    const float sign = tc > 0 ? 1.0f : tc < 0 ? -1.0f : 0.0f;
    dtheta[j] += da[j] * c * sign;
  }
#pragma omp parallel for if (rows * d >= 32768)
  for (size_t r = 0; r < rows; ++r) {
    float *gx = dx + r * d, *gy = dy + r * d;
    for (int j = 0; j < d; ++j) {
      const float a = std::abs(theta[j] * c);
      gx[j] = (1.0f - a) * gy[j];
      gy[j] = a * gy[j];
    }
  }
  unit_rows_backward(dx, dx, xn, rnorm_x, rows, d);
  unit_rows_backward(dy, dy, yn, rnorm_y, rows, d);
}

void accumulate_column_products(float* acc, const float* a, size_t stride_a, const float* b,
                                size_t stride_b, size_t rows, int width, float scale) {
  constexpr int kBlock = 64;
  const int blocks = (width + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) if (rows * width >= 32768)
  for (int blk = 0; blk < blocks; ++blk) {
    const int j0 = blk * kBlock, n = std::min(kBlock, width - j0);
    double s[kBlock] = {};
    for (size_t r = 0; r < rows; ++r) {
      const float *ar = a + r * stride_a + j0, *br = b + r * stride_b + j0;
      for (int j = 0; j < n; ++j) s[j] += static_cast<double>(ar[j]) * br[j];
    }
    for (int j = 0; j < n; ++j) acc[j0 + j] += scale * static_cast<float>(s[j]);
  }
}

}  // namespace normlab
