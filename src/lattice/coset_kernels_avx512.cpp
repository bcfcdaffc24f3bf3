// AVX-512 coset-cost kernel: eight double lanes; the 16-entry nibble tables are looked up by
// one two-register permute (permutex2var), the xor-permuted class blocks by one permute.
// GCC 12 reports the undefined-vector idiom (`__Y = __Y`) inside its own AVX-512 intrinsics as
// uninitialized once the kernel inlines them: a false positive, silenced for the intrinsics
// header only (as in kernels/dense_gemv_avx512.cpp).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include "lattice/coset_kernels_impl.hpp"

namespace llvq::lattice {
namespace {

struct Avx512Traits {
  using Cost = double;
  static constexpr int kLanes = 8;
  using D = __m512d;
  using I = __m512i;  // 64-bit lanes
  using Index = __m512i;
  using M = __mmask8;
  static I load_labels(const int32_t* p) {
    return _mm512_cvtepi32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static I complement(I l) { return _mm512_xor_si512(l, _mm512_set1_epi64(15)); }
  static Index index(I i) { return i; }
  static D lookup16(const double* table, Index i) {
    return _mm512_permutex2var_pd(_mm512_load_pd(table), i, _mm512_load_pd(table + 8));
  }
  static M bits_at(uint32_t mask, I i) {
    return _mm512_test_epi64_mask(_mm512_srlv_epi64(_mm512_set1_epi64(mask), i), _mm512_set1_epi64(1));
  }
  static M mask_xor(M a, M b) { return static_cast<M>(a ^ b); }
  static M lane_mask(uint32_t bits) { return static_cast<M>(bits); }
  static uint32_t mask_bits(M m) { return m; }
  static D add(D a, D b) { return _mm512_add_pd(a, b); }
  static D sub(D a, D b) { return _mm512_sub_pd(a, b); }
  static D min(D a, D b) { return _mm512_min_pd(a, b); }
  static M lt(D a, D b) { return _mm512_cmp_pd_mask(a, b, _CMP_LT_OQ); }
  static M le(D a, D b) { return _mm512_cmp_pd_mask(a, b, _CMP_LE_OQ); }
  static D select(M m, D a, D b) { return _mm512_mask_blend_pd(m, b, a); }
  static D load(const double* p) { return _mm512_loadu_pd(p); }
  static void store(double* p, D v) { _mm512_storeu_pd(p, v); }
  static D set1(double v) { return _mm512_set1_pd(v); }
  static D load_xor(const double* block, int a, int /*b0: always 0*/) {
    const __m512i lanes = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    return _mm512_permutexvar_pd(_mm512_xor_si512(lanes, _mm512_set1_epi64(a)), _mm512_loadu_pd(block));
  }
  static double least(D v) { return _mm512_reduce_min_pd(v); }
};

}  // namespace

CosetKernels coset_kernels_avx512() { return kernels<Avx512Traits>(); }

}  // namespace llvq::lattice
