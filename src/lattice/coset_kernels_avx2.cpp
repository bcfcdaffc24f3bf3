// AVX2 coset-cost kernel: four double lanes. Zen 1 runs AVX2 gathers slowly, so a 16-entry
// nibble table is looked up by register permutes: each 4-entry quarter by one 32-bit permute
// (a double is a pair of 32-bit halves), then two blends on the index's bits 2 and 3.
#include <immintrin.h>

#include "lattice/coset_kernels_impl.hpp"

namespace llvq::lattice {
namespace {

struct Avx2Traits {
  using Cost = double;
  static constexpr int kLanes = 4;
  using D = __m256d;
  using I = __m256i;  // 64-bit lanes
  using M = __m256d;  // all-ones lanes where the condition holds
  struct Index {
    __m256i pairs;   // per lane the 32-bit halves 2·(i mod 4), 2·(i mod 4) + 1
    __m256d bit2, bit3;  // the index bits in the sign bits (blendv reads them)
  };
  static I load_labels(const int32_t* p) {
    return _mm256_cvtepi32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static I complement(I l) { return _mm256_xor_si256(l, _mm256_set1_epi64x(15)); }
  static Index index(I i) {
    const __m256i low = _mm256_slli_epi64(_mm256_and_si256(i, _mm256_set1_epi64x(3)), 1);
    const __m256i pairs = _mm256_or_si256(low, _mm256_slli_epi64(_mm256_or_si256(low, _mm256_set1_epi64x(1)), 32));
    return {pairs, _mm256_castsi256_pd(_mm256_slli_epi64(i, 61)), _mm256_castsi256_pd(_mm256_slli_epi64(i, 60))};
  }
  static D quarter(const double* q, const Index& i) {
    return _mm256_castps_pd(_mm256_permutevar8x32_ps(_mm256_castpd_ps(_mm256_load_pd(q)), i.pairs));
  }
  static D lookup16(const double* table, const Index& i) {
    const D low = _mm256_blendv_pd(quarter(table, i), quarter(table + 4, i), i.bit2);
    const D high = _mm256_blendv_pd(quarter(table + 8, i), quarter(table + 12, i), i.bit2);
    return _mm256_blendv_pd(low, high, i.bit3);
  }
  static M bits_at(uint32_t mask, I i) {
    const __m256i bit = _mm256_and_si256(_mm256_srlv_epi64(_mm256_set1_epi64x(mask), i), _mm256_set1_epi64x(1));
    return _mm256_castsi256_pd(_mm256_cmpeq_epi64(bit, _mm256_set1_epi64x(1)));
  }
  static M mask_xor(M a, M b) { return _mm256_xor_pd(a, b); }
  static M lane_mask(uint32_t bits) {
    const __m256i lane = _mm256_set_epi64x(8, 4, 2, 1);
    return _mm256_castsi256_pd(_mm256_cmpeq_epi64(_mm256_and_si256(_mm256_set1_epi64x(bits), lane), lane));
  }
  static uint32_t mask_bits(M m) { return static_cast<uint32_t>(_mm256_movemask_pd(m)); }
  static D add(D a, D b) { return _mm256_add_pd(a, b); }
  static D sub(D a, D b) { return _mm256_sub_pd(a, b); }
  static D min(D a, D b) { return _mm256_min_pd(a, b); }
  static M lt(D a, D b) { return _mm256_cmp_pd(a, b, _CMP_LT_OQ); }
  static M le(D a, D b) { return _mm256_cmp_pd(a, b, _CMP_LE_OQ); }
  static D select(M m, D a, D b) { return _mm256_blendv_pd(b, a, m); }
  static D load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, D v) { _mm256_storeu_pd(p, v); }
  static D set1(double v) { return _mm256_set1_pd(v); }
  // Lanes b0..b0+3 of the block read at (b0 + l) ⊕ a: the half (b0 ⊕ a) & 4, permuted by a & 3.
  static D load_xor(const double* block, int a, int b0) {
    alignas(32) static constexpr int32_t kPairs[4][8] = {
        {0, 1, 2, 3, 4, 5, 6, 7}, {2, 3, 0, 1, 6, 7, 4, 5}, {4, 5, 6, 7, 0, 1, 2, 3}, {6, 7, 4, 5, 2, 3, 0, 1}};
    const __m256i pairs = _mm256_load_si256(reinterpret_cast<const __m256i*>(kPairs[a & 3]));
    const __m256 half = _mm256_castpd_ps(_mm256_loadu_pd(block + ((b0 ^ a) & 4)));
    return _mm256_castps_pd(_mm256_permutevar8x32_ps(half, pairs));
  }
  static double least(D v) {
    const __m128d pair = _mm_min_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_min_sd(pair, _mm_unpackhi_pd(pair, pair)));
  }
};

}  // namespace

CosetKernels coset_kernels_avx2() { return kernels<Avx2Traits>(); }

}  // namespace llvq::lattice
