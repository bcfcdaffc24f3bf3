// AVX2 traits of the octet-word kernels (octet_kernels_simd.hpp): 8-lane float vectors,
// signs applied through a byte mask expanded from the glue's sign bits. No BMI2 pdep/pext.
#define LLVQ_OCTET_ISA_NS avx2
#include "kernels/octet_kernels_simd.hpp"

namespace llvq::kernels::octet {
namespace {

struct Avx2 {
  // v with the bytes of the 24-bit mask negated.
  static __m256i negate(__m256i v, uint32_t mask) {
    const __m256i spread = _mm256_shuffle_epi8(
        _mm256_set1_epi32(static_cast<int>(mask)),
        _mm256_setr_epi64x(0, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303));
    const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201));
    const __m256i neg = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
    return _mm256_sub_epi8(_mm256_xor_si256(v, neg), neg);
  }

  // out[i] = float(f·v_i) in double (the scalar reference's arithmetic).
  static void store(__m256i v, double f, float* out) {
    const __m256d vf = _mm256_set1_pd(f);
    const OctetBytes bytes(v);
    for (int q = 0; q < 3; ++q) {
      const __m256i ints = _mm256_cvtepi8_epi32(bytes.q[q]);
      const __m256d lo = _mm256_cvtepi32_pd(_mm256_castsi256_si128(ints));
      const __m256d hi = _mm256_cvtepi32_pd(_mm256_extracti128_si256(ints, 1));
      _mm_storeu_ps(out + 8 * q, _mm256_cvtpd_ps(_mm256_mul_pd(lo, vf)));
      _mm_storeu_ps(out + 8 * q + 4, _mm256_cvtpd_ps(_mm256_mul_pd(hi, vf)));
    }
  }
};

}  // namespace

void decode_rows_avx2(const View& m, int64_t r0, int64_t r1, float* out) { decode_rows_dispatch<Avx2>(m, r0, r1, out); }
void gemv_rows_avx2(const View& m, const float* x, int64_t r0, int64_t r1, float* y) {
  gemv_rows_dispatch(m, x, r0, r1, y);
}
void gemm_rows_avx2(const View& m, const float* x, int64_t ldx, int64_t tokens, int64_t r0, int64_t r1, float* y,
                    int64_t ldy) {
  gemm_rows_dispatch(m, x, ldx, tokens, r0, r1, y, ldy);
}

}  // namespace llvq::kernels::octet
