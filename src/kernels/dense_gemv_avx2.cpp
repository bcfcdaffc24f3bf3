// AVX2 dense GEMV rows (compiled with AVX2/FMA/F16C flags only; self-contained).
#include <immintrin.h>

#include "kernels/table_simd.hpp"

namespace llvq::kernels::detail {

namespace {

float hsum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
}

__m256 load8(const float* p) { return _mm256_loadu_ps(p); }
__m256 load8(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
float load1(const float* p) { return *p; }
float load1(const uint16_t* p) { return _cvtsh_ss(*p); }

// Four rows per pass share each load of x; a scalar loop finishes the last < 8 columns.
template <class T>
void rows4(const T* w, int64_t cols, const float* x, float* y) {
  const T* w0 = w;
  const T* w1 = w + cols;
  const T* w2 = w + 2 * cols;
  const T* w3 = w + 3 * cols;
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  int64_t c = 0;
  for (; c + 8 <= cols; c += 8) {
    const __m256 xv = _mm256_loadu_ps(x + c);
    a0 = _mm256_fmadd_ps(load8(w0 + c), xv, a0);
    a1 = _mm256_fmadd_ps(load8(w1 + c), xv, a1);
    a2 = _mm256_fmadd_ps(load8(w2 + c), xv, a2);
    a3 = _mm256_fmadd_ps(load8(w3 + c), xv, a3);
  }
  float s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
  for (; c < cols; ++c) {
    s0 += load1(w0 + c) * x[c];
    s1 += load1(w1 + c) * x[c];
    s2 += load1(w2 + c) * x[c];
    s3 += load1(w3 + c) * x[c];
  }
  y[0] = s0, y[1] = s1, y[2] = s2, y[3] = s3;
}

template <class T>
void row1(const T* w, int64_t cols, const float* x, float* y) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  int64_t c = 0;
  for (; c + 16 <= cols; c += 16) {
    a0 = _mm256_fmadd_ps(load8(w + c), _mm256_loadu_ps(x + c), a0);
    a1 = _mm256_fmadd_ps(load8(w + c + 8), _mm256_loadu_ps(x + c + 8), a1);
  }
  float s = hsum(_mm256_add_ps(a0, a1));
  for (; c < cols; ++c) s += load1(w + c) * x[c];
  *y = s;
}

template <class T>
void rows(const T* w, int64_t cols, const float* x, int64_t r0, int64_t r1, float* y) {
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4) rows4(w + r * cols, cols, x, y + (r - r0));
  for (; r < r1; ++r) row1(w + r * cols, cols, x, y + (r - r0));
}

}  // namespace

void dense_f32_avx2(const float* w, int64_t cols, const float* x, int64_t r0, int64_t r1, float* y) {
  rows(w, cols, x, r0, r1, y);
}
void dense_f16_avx2(const uint16_t* w, int64_t cols, const float* x, int64_t r0, int64_t r1, float* y) {
  rows(w, cols, x, r0, r1, y);
}

}  // namespace llvq::kernels::detail
