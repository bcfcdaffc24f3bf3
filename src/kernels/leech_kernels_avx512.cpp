// AVX-512 Leech kernels: the block's masks from the shared decode (leech_block.hpp, compiled
// here with BMI2 pdep), then the point as masked moves into 16 + 8 lanes, its scaling and the
// dot product in 512-bit vectors.
#define LLVQ_LEECH_ISA_NS avx512
#include <immintrin.h>

#include "kernels/leech_kernels.hpp"

namespace llvq::kernels::leech {
namespace {

// Lanes 0..15 in lo, 16..23 in the low half of hi.
struct Point16 {
  __m512i lo, hi;
};

// Parts past p.parts have empty masks (point_of clears them), so the loop can run to the
// table's max_parts: a trip count that is the same for every block and so never mispredicts.
inline Point16 expand(const PointMasks& p, int parts) {
  Point16 v{_mm512_setzero_si512(), _mm512_setzero_si512()};
  for (int k = 0; k < parts; ++k) {
    const __m512i value = _mm512_set1_epi32(p.value[k]);
    v.lo = _mm512_mask_mov_epi32(v.lo, static_cast<__mmask16>(p.mask[k]), value);
    v.hi = _mm512_mask_mov_epi32(v.hi, static_cast<__mmask16>(p.mask[k] >> 16), value);
  }
  const __m512i zero = _mm512_setzero_si512();
  v.lo = _mm512_mask_sub_epi32(v.lo, static_cast<__mmask16>(p.neg), zero, v.lo);
  v.hi = _mm512_mask_sub_epi32(v.hi, static_cast<__mmask16>(p.neg >> 16), zero, v.hi);
  return v;
}

inline Point16 point_of(const BlockTables& t, uint64_t word) {
  PointMasks p;
  for (int k = 0; k < 2 * kMaxLevels + 2; ++k) p.mask[k] = 0, p.value[k] = 0;  // parts past p.parts: empty
  decode_masks(t, word, p);
  return expand(p, t.max_parts);
}

// out[i] = float(f·v[i]) in double, as the scalar reference.
inline void store_floats(double f, const Point16& v, float* out) {
  const __m512d vf = _mm512_set1_pd(f);
  _mm256_storeu_ps(out, _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_cvtepi32_pd(_mm512_castsi512_si256(v.lo)), vf)));
  _mm256_storeu_ps(out + 8, _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(v.lo, 1)), vf)));
  _mm256_storeu_ps(out + 16, _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_cvtepi32_pd(_mm512_castsi512_si256(v.hi)), vf)));
}

// acc += f·(v ⊙ x); the upper 8 lanes of hi are zero and x's are not read.
inline __m512 accumulate(float f, const Point16& v, const float* x, __m512 acc) {
  __m512 d = _mm512_mul_ps(_mm512_cvtepi32_ps(v.lo), _mm512_loadu_ps(x));
  d = _mm512_fmadd_ps(_mm512_cvtepi32_ps(v.hi), _mm512_maskz_loadu_ps(0x00FF, x + 16), d);
  return _mm512_fmadd_ps(_mm512_set1_ps(f), d, acc);
}

}  // namespace

void decode_rows_avx512(const MatrixView& m, int64_t r0, int64_t r1, float* out) {
  for (int64_t r = r0; r < r1; ++r) {
    const uint64_t* words = m.words + r * m.blocks;
    const float* scales = m.scales + r * m.groups;
    for (int64_t g = 0, j = 0; g < m.groups; ++g)  // groups outside: no division per block
      for (const int64_t end = j + m.blocks_per_group; j < end; ++j, out += kDim)
        store_floats(block_factor(*m.tables, words[j], scales[g]), point_of(*m.tables, words[j]), out);
  }
}

void gemv_rows_avx512(const MatrixView& m, const float* x, int64_t r0, int64_t r1, float* y) {
  for (int64_t r = r0; r < r1; ++r) {
    const uint64_t* words = m.words + r * m.blocks;
    const float* scales = m.scales + r * m.groups;
    __m512 acc = _mm512_setzero_ps();
    for (int64_t g = 0, j = 0; g < m.groups; ++g)
      for (const int64_t end = j + m.blocks_per_group; j < end; ++j)
        acc = accumulate(gemv_factor(*m.tables, words[j], scales[g]), point_of(*m.tables, words[j]), x + kDim * j, acc);
    y[r - r0] = _mm512_reduce_add_ps(acc);
  }
}

}  // namespace llvq::kernels::leech
