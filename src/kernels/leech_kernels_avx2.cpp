// AVX2 Leech kernels: the block's lattice point from the shared decode (leech_block.hpp,
// compiled here with BMI2 pdep), scaling and the dot product in 256-bit vectors.
#define LLVQ_LEECH_ISA_NS avx2
#include <immintrin.h>

#include "kernels/leech_kernels.hpp"

namespace llvq::kernels::leech {
namespace {

// out[i] = float(f·v[i]) in double, as the scalar reference.
inline void scale_block(double f, const int32_t* v, float* out) {
  const __m256d vf = _mm256_set1_pd(f);
  for (int k = 0; k < kDim; k += 4) {
    const __m256d d = _mm256_cvtepi32_pd(_mm_loadu_si128(reinterpret_cast<const __m128i*>(v + k)));
    _mm_storeu_ps(out + k, _mm256_cvtpd_ps(_mm256_mul_pd(d, vf)));
  }
}

// acc += f·(v ⊙ x), three 8-lane pieces.
inline __m256 accumulate_block(float f, const int32_t* v, const float* x, __m256 acc) {
  __m256 d = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(v))),
                           _mm256_loadu_ps(x));
  d = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(v + 8))),
                      _mm256_loadu_ps(x + 8), d);
  d = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(v + 16))),
                      _mm256_loadu_ps(x + 16), d);
  return _mm256_fmadd_ps(_mm256_set1_ps(f), d, acc);
}

inline float horizontal_sum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

}  // namespace

void decode_rows_avx2(const MatrixView& m, int64_t r0, int64_t r1, float* out) {
  alignas(32) int32_t v[kDim];
  for (int64_t r = r0; r < r1; ++r) {
    const uint64_t* words = m.words + r * m.blocks;
    const float* scales = m.scales + r * m.groups;
    for (int64_t j = 0; j < m.blocks; ++j, out += kDim) {
      decode_point(*m.tables, words[j], v);
      scale_block(block_factor(*m.tables, words[j], scales[j / m.blocks_per_group]), v, out);
    }
  }
}

void gemv_rows_avx2(const MatrixView& m, const float* x, int64_t r0, int64_t r1, float* y) {
  alignas(32) int32_t v[kDim];
  for (int64_t r = r0; r < r1; ++r) {
    const uint64_t* words = m.words + r * m.blocks;
    const float* scales = m.scales + r * m.groups;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t j = 0; j < m.blocks; ++j) {
      decode_point(*m.tables, words[j], v);
      acc = accumulate_block(gemv_factor(*m.tables, words[j], scales[j / m.blocks_per_group]), v, x + kDim * j, acc);
    }
    y[r - r0] = horizontal_sum(acc);
  }
}

}  // namespace llvq::kernels::leech
