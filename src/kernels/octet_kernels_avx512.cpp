// AVX-512 traits of the octet-word kernels (octet_kernels_simd.hpp): the signs are one masked
// byte subtraction; 16 + 8 float lanes per block.
#define LLVQ_OCTET_ISA_NS avx512
#include "kernels/octet_kernels_simd.hpp"

namespace llvq::kernels::octet {
namespace {

struct Avx512 {
  struct Acc {
    __m512 a;
    __m256 b;
  };
  static Acc zero() { return {_mm512_setzero_ps(), _mm256_setzero_ps()}; }

  static __m256i negate(__m256i v, uint32_t mask) {
    return _mm256_mask_sub_epi8(v, static_cast<__mmask32>(mask), _mm256_setzero_si256(), v);
  }

  static void accumulate(Acc& acc, __m256i v, float f, const float* x) {
    const __m512 a = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_castsi256_si128(v))), _mm512_loadu_ps(x));
    const __m256 b = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm256_extracti128_si256(v, 1))),
                                   _mm256_loadu_ps(x + 16));
    acc.a = _mm512_fmadd_ps(_mm512_set1_ps(f), a, acc.a);
    acc.b = _mm256_fmadd_ps(_mm256_set1_ps(f), b, acc.b);
  }

  static float sum(const Acc& acc) {
    const __m256 s = _mm256_add_ps(acc.b, _mm256_add_ps(_mm512_castps512_ps256(acc.a), _mm512_extractf32x8_ps(acc.a, 1)));
    const __m128 q = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    const __m128 t = _mm_add_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
  }

  static void store(__m256i v, double f, float* out) {
    const __m512d vf = _mm512_set1_pd(f);
    const __m128i bytes[3] = {_mm256_castsi256_si128(v),
                              _mm_unpackhi_epi64(_mm256_castsi256_si128(v), _mm256_castsi256_si128(v)),
                              _mm256_extracti128_si256(v, 1)};
    for (int q = 0; q < 3; ++q) {
      const __m512d d = _mm512_cvtepi32_pd(_mm256_cvtepi8_epi32(bytes[q]));
      _mm256_storeu_ps(out + 8 * q, _mm512_cvtpd_ps(_mm512_mul_pd(d, vf)));
    }
  }
};

}  // namespace

void decode_rows_avx512(const View& m, int64_t r0, int64_t r1, float* out) { decode_rows_dispatch<Avx512>(m, r0, r1, out); }
void gemv_rows_avx512(const View& m, const float* x, int64_t r0, int64_t r1, float* y) {
  gemv_rows_dispatch<Avx512>(m, x, r0, r1, y);
}

}  // namespace llvq::kernels::octet
