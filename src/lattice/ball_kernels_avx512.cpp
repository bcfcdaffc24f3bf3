// AVX-512 search kernels: eight lanes of doubles for the walks, sixteen floats for the scans;
// bit indices from an exact integer → double
// conversion (AVX-512DQ; masks stay below 2^53), table lookups by register permutes (faster
// than gathers for a 64-entry table).
#include <immintrin.h>

#include "lattice/ball_kernels_impl.hpp"

namespace llvq::lattice {
namespace {

struct Avx512Traits {
  static constexpr int kWidth = 8, kFloats = 16;
  using D = __m512d;
  using F = __m512;
  using I = __m512i;
  template <int N>
  struct Table {
    static_assert(N == 32 || N == 64);
    __m512d t[N / 8];
    explicit Table(const double* values) {
      for (int i = 0; i < N / 8; ++i) t[i] = _mm512_loadu_pd(values + 8 * i);
    }
    // permutex2var picks among 16 entries by the low four index bits; bits 4 and 5 choose
    // the pair of registers.
    D lookup(I r) const {
      const __mmask8 bit4 = _mm512_test_epi64_mask(r, _mm512_set1_epi64(16));
      const __m512d low = _mm512_mask_blend_pd(bit4, _mm512_permutex2var_pd(t[0], r, t[1]),
                                               _mm512_permutex2var_pd(t[2], r, t[3]));
      if constexpr (N == 32) {
        return low;
      } else {
        const __mmask8 bit5 = _mm512_test_epi64_mask(r, _mm512_set1_epi64(32));
        const __m512d high = _mm512_mask_blend_pd(bit4, _mm512_permutex2var_pd(t[4], r, t[5]),
                                                  _mm512_permutex2var_pd(t[6], r, t[7]));
        return _mm512_mask_blend_pd(bit5, low, high);
      }
    }
  };
  static D load(const double* p) { return _mm512_loadu_pd(p); }
  static void store(double* p, D v) { _mm512_storeu_pd(p, v); }
  static void store_rounded(float* p, D v) { _mm256_storeu_ps(p, _mm512_cvtpd_ps(v)); }
  static I loadi(const uint64_t* p) { return _mm512_loadu_si512(p); }
  static void storei(uint64_t* p, I v) { _mm512_storeu_si512(p, v); }
  static D zero() { return _mm512_setzero_pd(); }
  static D add(D a, D b) { return _mm512_add_pd(a, b); }
  static F loadf(const float* p) { return _mm512_loadu_ps(p); }
  static F loadf_reversed(const float* p) {
    return _mm512_permutexvar_ps(_mm512_set_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_loadu_ps(p));
  }
  static F set1f(float v) { return _mm512_set1_ps(v); }
  static F subf(F a, F b) { return _mm512_sub_ps(a, b); }
  static F mulf(F a, F b) { return _mm512_mul_ps(a, b); }
  static F fmaf(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static F absf(F a) { return _mm512_abs_ps(a); }
  static unsigned gef(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
  static unsigned lef(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
  // floor(log2 m) from the exponent field of the exactly converted m.
  static I highest(I m) {
    const __m512i bits = _mm512_castpd_si512(_mm512_cvtepu64_pd(m));
    return _mm512_sub_epi64(_mm512_srli_epi64(bits, 52), _mm512_set1_epi64(1023));
  }
  static I lowest(I m) { return highest(_mm512_and_si512(m, _mm512_sub_epi64(_mm512_setzero_si512(), m))); }
  static I clear_lowest(I m) { return _mm512_and_si512(m, _mm512_sub_epi64(m, _mm512_set1_epi64(1))); }
  static I clear_bit(I m, I r) { return _mm512_andnot_si512(_mm512_sllv_epi64(_mm512_set1_epi64(1), r), m); }
};

}  // namespace

BallKernels ball_kernels_avx512() { return impl::kernels<Avx512Traits>(); }

}  // namespace llvq::lattice
