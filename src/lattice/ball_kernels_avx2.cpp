// AVX2 search kernels: four lanes of doubles for the walks, eight floats for the scans. Zen 1 runs AVX2 gathers and pdep/pext slowly,
// so bit indices come from an exact integer → double conversion (masks stay below 2^52) and
// table lookups from four scalar loads.
#include <immintrin.h>

#include "lattice/ball_kernels_impl.hpp"

namespace llvq::lattice {
namespace {

struct Avx2Traits {
  static constexpr int kWidth = 4, kFloats = 8;
  using D = __m256d;
  using F = __m256;
  using I = __m256i;
  template <int N>
  struct Table {
    const double* v;
    explicit Table(const double* values) : v(values) {}
    D lookup(I r) const {
      alignas(32) int64_t idx[4];
      _mm256_store_si256(reinterpret_cast<__m256i*>(idx), _mm256_and_si256(r, _mm256_set1_epi64x(N - 1)));
      return _mm256_set_pd(v[idx[3]], v[idx[2]], v[idx[1]], v[idx[0]]);
    }
  };
  static D load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, D v) { _mm256_storeu_pd(p, v); }
  static void store_rounded(float* p, D v) { _mm_storeu_ps(p, _mm256_cvtpd_ps(v)); }
  static I loadi(const uint64_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static void storei(uint64_t* p, I v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static D zero() { return _mm256_setzero_pd(); }
  static D add(D a, D b) { return _mm256_add_pd(a, b); }
  static F loadf(const float* p) { return _mm256_loadu_ps(p); }
  static F loadf_reversed(const float* p) {
    return _mm256_permutevar8x32_ps(_mm256_loadu_ps(p), _mm256_set_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static F set1f(float v) { return _mm256_set1_ps(v); }
  static F subf(F a, F b) { return _mm256_sub_ps(a, b); }
  static F mulf(F a, F b) { return _mm256_mul_ps(a, b); }
  static F fmaf(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static F absf(F a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  static unsigned gef(F a, F b) { return static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(a, b, _CMP_GE_OQ))); }
  static unsigned lef(F a, F b) { return static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(a, b, _CMP_LE_OQ))); }
  // floor(log2 m) for 0 < m < 2^52: OR-ing m into the mantissa of 2^52 and subtracting 2^52
  // converts exactly, and the exponent field is then 1023 + floor(log2 m).
  static I log2(I m) {
    const __m256d magic = _mm256_set1_pd(4503599627370496.0);  // 2^52
    const __m256d d = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(m, _mm256_castpd_si256(magic))), magic);
    return _mm256_sub_epi64(_mm256_srli_epi64(_mm256_castpd_si256(d), 52), _mm256_set1_epi64x(1023));
  }
  static I lowest(I m) { return log2(_mm256_and_si256(m, _mm256_sub_epi64(_mm256_setzero_si256(), m))); }
  static I highest(I m) { return log2(m); }
  static I clear_lowest(I m) { return _mm256_and_si256(m, _mm256_sub_epi64(m, _mm256_set1_epi64x(1))); }
  // sllv gives 0 for the out-of-range counts of empty lanes, which leaves them unchanged.
  static I clear_bit(I m, I r) { return _mm256_andnot_si256(_mm256_sllv_epi64(_mm256_set1_epi64x(1), r), m); }
};

}  // namespace

BallKernels ball_kernels_avx2() { return impl::kernels<Avx2Traits>(); }

}  // namespace llvq::lattice
