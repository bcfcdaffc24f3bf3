// AVX-512 Leech kernels: the block's lattice point from the shared decode (leech_block.hpp,
// compiled here with BMI2 pdep), scaling and the dot product in 512-bit vectors.
#define LLVQ_LEECH_ISA_NS avx512
#include <immintrin.h>

#include "kernels/leech_kernels.hpp"

namespace llvq::kernels::leech {
namespace {

// out[i] = float(f·v[i]) in double, as the scalar reference.
inline void scale_block(double f, const int32_t* v, float* out) {
  const __m512d vf = _mm512_set1_pd(f);
  for (int k = 0; k < kDim; k += 8) {
    const __m512d d = _mm512_cvtepi32_pd(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(v + k)));
    _mm256_storeu_ps(out + k, _mm512_cvtpd_ps(_mm512_mul_pd(d, vf)));
  }
}

// acc += f·(v ⊙ x): lanes 0..15 and 16..23 (upper half masked off).
inline __m512 accumulate_block(float f, const int32_t* v, const float* x, __m512 acc) {
  constexpr __mmask16 kLow8 = 0x00FF;
  __m512 d = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_loadu_si512(v)), _mm512_loadu_ps(x));
  const __m512 hi = _mm512_cvtepi32_ps(_mm512_maskz_loadu_epi32(kLow8, v + 16));
  d = _mm512_fmadd_ps(hi, _mm512_maskz_loadu_ps(kLow8, x + 16), d);
  return _mm512_fmadd_ps(_mm512_set1_ps(f), d, acc);
}

}  // namespace

void decode_rows_avx512(const MatrixView& m, int64_t r0, int64_t r1, float* out) {
  alignas(64) int32_t v[kDim];
  for (int64_t r = r0; r < r1; ++r) {
    const uint64_t* words = m.words + r * m.blocks;
    const float* scales = m.scales + r * m.groups;
    for (int64_t j = 0; j < m.blocks; ++j, out += kDim) {
      decode_point(*m.tables, words[j], v);
      scale_block(block_factor(*m.tables, words[j], scales[j / m.blocks_per_group]), v, out);
    }
  }
}

void gemv_rows_avx512(const MatrixView& m, const float* x, int64_t r0, int64_t r1, float* y) {
  alignas(64) int32_t v[kDim];
  for (int64_t r = r0; r < r1; ++r) {
    const uint64_t* words = m.words + r * m.blocks;
    const float* scales = m.scales + r * m.groups;
    __m512 acc = _mm512_setzero_ps();
    for (int64_t j = 0; j < m.blocks; ++j) {
      decode_point(*m.tables, words[j], v);
      acc = accumulate_block(gemv_factor(*m.tables, words[j], scales[j / m.blocks_per_group]), v, x + kDim * j, acc);
    }
    y[r - r0] = _mm512_reduce_add_ps(acc);
  }
}

}  // namespace llvq::kernels::leech
