// AVX-512 dense GEMV rows (compiled with AVX-512 flags only; self-contained). Column tails
// use masked loads.
#include <immintrin.h>

#include "kernels/table_simd.hpp"

namespace llvq::kernels::detail {

namespace {

__m512 load16(const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
__m512 load16(const uint16_t* p, __mmask16 m) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p)); }
__m512 load16(const float* p) { return _mm512_loadu_ps(p); }
__m512 load16(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }

// Four rows per pass share each load of x.
template <class T>
void rows4(const T* w, int64_t cols, const float* x, float* y) {
  const T* w0 = w;
  const T* w1 = w + cols;
  const T* w2 = w + 2 * cols;
  const T* w3 = w + 3 * cols;
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
  int64_t c = 0;
  for (; c + 16 <= cols; c += 16) {
    const __m512 xv = _mm512_loadu_ps(x + c);
    a0 = _mm512_fmadd_ps(load16(w0 + c), xv, a0);
    a1 = _mm512_fmadd_ps(load16(w1 + c), xv, a1);
    a2 = _mm512_fmadd_ps(load16(w2 + c), xv, a2);
    a3 = _mm512_fmadd_ps(load16(w3 + c), xv, a3);
  }
  if (c < cols) {
    const auto m = static_cast<__mmask16>((1u << (cols - c)) - 1);
    const __m512 xv = _mm512_maskz_loadu_ps(m, x + c);
    a0 = _mm512_fmadd_ps(load16(w0 + c, m), xv, a0);
    a1 = _mm512_fmadd_ps(load16(w1 + c, m), xv, a1);
    a2 = _mm512_fmadd_ps(load16(w2 + c, m), xv, a2);
    a3 = _mm512_fmadd_ps(load16(w3 + c, m), xv, a3);
  }
  y[0] = _mm512_reduce_add_ps(a0), y[1] = _mm512_reduce_add_ps(a1);
  y[2] = _mm512_reduce_add_ps(a2), y[3] = _mm512_reduce_add_ps(a3);
}

template <class T>
void row1(const T* w, int64_t cols, const float* x, float* y) {
  __m512 a = _mm512_setzero_ps();
  int64_t c = 0;
  for (; c + 16 <= cols; c += 16) a = _mm512_fmadd_ps(load16(w + c), _mm512_loadu_ps(x + c), a);
  if (c < cols) {
    const auto m = static_cast<__mmask16>((1u << (cols - c)) - 1);
    a = _mm512_fmadd_ps(load16(w + c, m), _mm512_maskz_loadu_ps(m, x + c), a);
  }
  *y = _mm512_reduce_add_ps(a);
}

template <class T>
void rows(const T* w, int64_t cols, const float* x, int64_t r0, int64_t r1, float* y) {
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4) rows4(w + r * cols, cols, x, y + (r - r0));
  for (; r < r1; ++r) row1(w + r * cols, cols, x, y + (r - r0));
}

}  // namespace

void dense_f32_avx512(const float* w, int64_t cols, const float* x, int64_t r0, int64_t r1, float* y) {
  rows(w, cols, x, r0, r1, y);
}
void dense_f16_avx512(const uint16_t* w, int64_t cols, const float* x, int64_t r0, int64_t r1, float* y) {
  rows(w, cols, x, r0, r1, y);
}

}  // namespace llvq::kernels::detail
