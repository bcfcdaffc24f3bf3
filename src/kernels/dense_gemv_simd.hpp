// The dense GEMV rows (fp32 and fp16 weights), written once over a per-ISA traits type V and
// included only by dense_gemv_avx2.cpp and dense_gemv_avx512.cpp, each of which defines its
// traits first. V supplies: Vec and kLanes; zero(); load(const float*) and load(const
// uint16_t*) (fp16 widened with F16C); fma(a, b, acc); and finish(acc, w, x, c, cols), which
// adds the columns [c, cols) that do not fill a vector (AVX-512: one masked step; AVX2: a
// scalar loop) and returns the sum of the lanes.
#pragma once

#include <cstdint>

namespace llvq::kernels::detail {
namespace {

// Four rows per pass share each load of x.
template <class V, class T>
void dense_rows4(const T* w, int64_t cols, const float* x, float* y) {
  const T* row[4] = {w, w + cols, w + 2 * cols, w + 3 * cols};
  typename V::Vec acc[4] = {V::zero(), V::zero(), V::zero(), V::zero()};
  int64_t c = 0;
  for (; c + V::kLanes <= cols; c += V::kLanes) {
    const typename V::Vec xv = V::load(x + c);
    for (int i = 0; i < 4; ++i) acc[i] = V::fma(V::load(row[i] + c), xv, acc[i]);
  }
  for (int i = 0; i < 4; ++i) y[i] = V::finish(acc[i], row[i], x, c, cols);
}

// One row, two accumulators (two independent FMA chains).
template <class V, class T>
void dense_row1(const T* w, int64_t cols, const float* x, float* y) {
  typename V::Vec a0 = V::zero(), a1 = V::zero();
  int64_t c = 0;
  for (; c + 2 * V::kLanes <= cols; c += 2 * V::kLanes) {
    a0 = V::fma(V::load(w + c), V::load(x + c), a0);
    a1 = V::fma(V::load(w + c + V::kLanes), V::load(x + c + V::kLanes), a1);
  }
  if (c + V::kLanes <= cols) {
    a0 = V::fma(V::load(w + c), V::load(x + c), a0);
    c += V::kLanes;
  }
  *y = V::finish(V::add(a0, a1), w, x, c, cols);
}

template <class V, class T>
void dense_rows(const T* w, int64_t cols, const float* x, int64_t r0, int64_t r1, float* y) {
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4) dense_rows4<V>(w + r * cols, cols, x, y + (r - r0));
  for (; r < r1; ++r) dense_row1<V>(w + r * cols, cols, x, y + (r - r0));
}

}  // namespace
}  // namespace llvq::kernels::detail
