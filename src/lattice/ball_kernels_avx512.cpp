// AVX-512 search kernels: sixteen lanes of floats and 32-bit masks; bit indices from the
// exponent of the exactly converted bit, table lookups by register permutes (faster than
// gathers for tables of at most 64 entries).
#include <immintrin.h>

#include "lattice/ball_kernels_impl.hpp"

namespace llvq::lattice {
namespace {

struct Avx512Traits {
  static constexpr int kFloats = 16, kGroupBits = 4;
  using F = __m512;
  using U = __m512i;
  using M = __mmask16;
  template <int N>
  struct Table {
    static_assert(N == 32 || N == kTableSize);
    __m512 t[N / 16];
    explicit Table(const float* values) {
      for (int i = 0; i < N / 16; ++i) t[i] = _mm512_loadu_ps(values + 16 * i);
    }
    // permutex2var picks among 32 entries by the low five index bits; bit 5 chooses the pair.
    F lookup(U r) const {
      const __m512 low = _mm512_permutex2var_ps(t[0], r, t[1]);
      if constexpr (N == 32) {
        return low;
      } else {
        const __mmask16 bit5 = _mm512_test_epi32_mask(r, _mm512_set1_epi32(32));
        return _mm512_mask_blend_ps(bit5, low, _mm512_permutex2var_ps(t[2], r, t[3]));
      }
    }
  };
  // 16 entries of 32 bits, looked up by one permute.
  struct Group {
    __m512i t = _mm512_setzero_si512();
    Group() = default;
    explicit Group(const void* entries) : t(_mm512_loadu_si512(entries)) {}
    F lookup_sum(U p) const { return _mm512_castsi512_ps(_mm512_permutexvar_epi32(p, t)); }
    U lookup_mask(U p) const { return _mm512_permutexvar_epi32(p, t); }
  };
  static F loadf(const float* p) { return _mm512_loadu_ps(p); }
  static F loadf_reversed(const float* p) {
    return _mm512_permutexvar_ps(_mm512_set_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_loadu_ps(p));
  }
  static void storef(float* p, F v) { _mm512_storeu_ps(p, v); }
  static F zerof() { return _mm512_setzero_ps(); }
  static F set1f(float v) { return _mm512_set1_ps(v); }
  static F addf(F a, F b) { return _mm512_add_ps(a, b); }
  static F subf(F a, F b) { return _mm512_sub_ps(a, b); }
  static F mulf(F a, F b) { return _mm512_mul_ps(a, b); }
  static F fmaf(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static F absf(F a) { return _mm512_abs_ps(a); }
  static F minf(F a, F b) { return _mm512_min_ps(a, b); }
  static F maxf(F a, F b) { return _mm512_max_ps(a, b); }
  static unsigned gef(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
  static unsigned lef(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
  static U loadu(const uint32_t* p) { return _mm512_loadu_si512(p); }
  static void storeu(uint32_t* p, U v) { _mm512_storeu_si512(p, v); }
  static U zerou() { return _mm512_setzero_si512(); }
  static U set1u(uint32_t v) { return _mm512_set1_epi32(static_cast<int>(v)); }
  static U andu(U a, U b) { return _mm512_and_si512(a, b); }
  static U oru(U a, U b) { return _mm512_or_si512(a, b); }
  static U xoru(U a, U b) { return _mm512_xor_si512(a, b); }
  static U negu(U a) { return _mm512_sub_epi32(_mm512_setzero_si512(), a); }
  static U addu(U a, U b) { return _mm512_add_epi32(a, b); }
  static U bitsf(F a) { return _mm512_castps_si512(a); }
  static U srlu(U a, int n) { return _mm512_srli_epi32(a, static_cast<unsigned>(n)); }
  static M nonzero(U a) { return _mm512_test_epi32_mask(a, a); }
  static U select(M m, U a, U b) { return _mm512_mask_blend_epi32(m, b, a); }
  static F to_float(U a) { return _mm512_cvtepi32_ps(a); }
  // A power of two below 2^24 converts exactly; its exponent field is 127 + the bit index.
  static U bit_index(U bit) {
    const __m512i bits = _mm512_castps_si512(_mm512_cvtepi32_ps(bit));
    return _mm512_sub_epi32(_mm512_srli_epi32(bits, 23), _mm512_set1_epi32(127));
  }
  // Any mask below 2^24 converts exactly too: the exponent is that of its highest bit.
  static U highest_index(U m) { return bit_index(m); }
};

}  // namespace

BallKernels ball_kernels_avx512() { return impl::kernels<Avx512Traits>(); }

}  // namespace llvq::lattice
