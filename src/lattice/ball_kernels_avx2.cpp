// AVX2 search kernels: eight lanes of floats and 32-bit masks. Zen 1 runs AVX2 gathers and
// pdep/pext slowly, so bit indices come from the exponent of the exactly converted bit and
// table lookups from 8-entry register permutes and blends.
#include <immintrin.h>

#include "lattice/ball_kernels_impl.hpp"

namespace llvq::lattice {
namespace {

struct Avx2Traits {
  static constexpr int kFloats = 8, kGroupBits = 3;
  using F = __m256;
  using U = __m256i;
  using M = __m256i;  // all-ones lanes where the condition holds
  // N/8 registers of 8 entries; a permute picks by the low three index bits in each, and
  // blends on bits 3, 4 (and 5) choose among them (a blend reads its condition's sign bit).
  template <int N>
  struct Table {
    static_assert(N == 32 || N == kTableSize);
    __m256 t[N / 8];
    explicit Table(const float* values) {
      for (int i = 0; i < N / 8; ++i) t[i] = _mm256_loadu_ps(values + 8 * i);
    }
    static __m256 on_bit(U r, int bit) { return _mm256_castsi256_ps(_mm256_slli_epi32(r, 31 - bit)); }
    F lookup(U r) const {
      F e[N / 8];
      for (int i = 0; i < N / 8; ++i) e[i] = _mm256_permutevar8x32_ps(t[i], r);
      const __m256 b3 = on_bit(r, 3), b4 = on_bit(r, 4);
      F q[N / 16];
      for (int i = 0; i < N / 16; ++i) q[i] = _mm256_blendv_ps(e[2 * i], e[2 * i + 1], b3);
      const F low = _mm256_blendv_ps(q[0], q[1], b4);
      if constexpr (N == 32) {
        return low;
      } else {
        return _mm256_blendv_ps(low, _mm256_blendv_ps(q[2], q[3], b4), on_bit(r, 5));
      }
    }
  };
  // 8 entries of 32 bits, looked up by one permute.
  struct Group {
    __m256i t = _mm256_setzero_si256();
    Group() = default;
    explicit Group(const void* entries) : t(_mm256_loadu_si256(static_cast<const __m256i*>(entries))) {}
    F lookup_sum(U p) const { return _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(t, p)); }
    U lookup_mask(U p) const { return _mm256_permutevar8x32_epi32(t, p); }
  };
  static F loadf(const float* p) { return _mm256_loadu_ps(p); }
  static F loadf_reversed(const float* p) {
    return _mm256_permutevar8x32_ps(_mm256_loadu_ps(p), _mm256_set_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static void storef(float* p, F v) { _mm256_storeu_ps(p, v); }
  static F zerof() { return _mm256_setzero_ps(); }
  static F set1f(float v) { return _mm256_set1_ps(v); }
  static F addf(F a, F b) { return _mm256_add_ps(a, b); }
  static F subf(F a, F b) { return _mm256_sub_ps(a, b); }
  static F mulf(F a, F b) { return _mm256_mul_ps(a, b); }
  static F fmaf(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static F absf(F a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  static F minf(F a, F b) { return _mm256_min_ps(a, b); }
  static F maxf(F a, F b) { return _mm256_max_ps(a, b); }
  static unsigned gef(F a, F b) { return static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(a, b, _CMP_GE_OQ))); }
  static unsigned lef(F a, F b) { return static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(a, b, _CMP_LE_OQ))); }
  static U loadu(const uint32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static void storeu(uint32_t* p, U v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static U zerou() { return _mm256_setzero_si256(); }
  static U set1u(uint32_t v) { return _mm256_set1_epi32(static_cast<int>(v)); }
  static U andu(U a, U b) { return _mm256_and_si256(a, b); }
  static U oru(U a, U b) { return _mm256_or_si256(a, b); }
  static U xoru(U a, U b) { return _mm256_xor_si256(a, b); }
  static U negu(U a) { return _mm256_sub_epi32(_mm256_setzero_si256(), a); }
  static U addu(U a, U b) { return _mm256_add_epi32(a, b); }
  static U bitsf(F a) { return _mm256_castps_si256(a); }
  static U srlu(U a, int n) { return _mm256_srli_epi32(a, n); }
  static M nonzero(U a) { return _mm256_xor_si256(_mm256_cmpeq_epi32(a, _mm256_setzero_si256()), _mm256_set1_epi32(-1)); }
  static U select(M m, U a, U b) { return _mm256_blendv_epi8(b, a, m); }
  static F to_float(U a) { return _mm256_cvtepi32_ps(a); }
  // A power of two below 2^24 converts exactly; its exponent field is 127 + the bit index.
  static U bit_index(U bit) {
    const __m256i bits = _mm256_castps_si256(_mm256_cvtepi32_ps(bit));
    return _mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(127));
  }
  // Any mask below 2^24 converts exactly too: the exponent is that of its highest bit.
  static U highest_index(U m) { return bit_index(m); }
};

}  // namespace

BallKernels ball_kernels_avx2() { return impl::kernels<Avx2Traits>(); }

}  // namespace llvq::lattice
