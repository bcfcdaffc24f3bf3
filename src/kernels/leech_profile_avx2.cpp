// The per-stage profile of `llvq bench leech-decode`: the split word's block decode
// (leech_block.hpp, compiled here with AVX2 and BMI2 pdep), then the point, its scaling and
// the dot product in 256-bit vectors. The CPU kernels themselves use the octet word
// (octet_word.hpp); the split word remains the CUDA kernels' layout.
#define LLVQ_LEECH_ISA_NS avx2
#include <immintrin.h>

#include "kernels/leech_profile.hpp"

namespace llvq::kernels::leech {
namespace {

// The point as three 8-lane vectors: each part's value blended into the lanes of its mask,
// then the lanes of p.neg negated.
struct Point8 {
  __m256i q[3];
};

inline __m256i lanes_of(uint32_t bits8) {
  const __m256i lane_bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(static_cast<int>(bits8)), lane_bit), lane_bit);
}

// Parts past p.parts must have empty masks (clear_parts), so the loop can run to the table's
// max_parts: a trip count that is the same for every block and so never mispredicts.
inline Point8 expand(const PointMasks& p, int parts) {
  Point8 v{{_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()}};
  for (int k = 0; k < parts; ++k) {
    const __m256i value = _mm256_set1_epi32(p.value[k]);
    for (int q = 0; q < 3; ++q) v.q[q] = _mm256_blendv_epi8(v.q[q], value, lanes_of((p.mask[k] >> (8 * q)) & 0xFF));
  }
  for (int q = 0; q < 3; ++q) {
    const __m256i neg = lanes_of((p.neg >> (8 * q)) & 0xFF);
    v.q[q] = _mm256_sub_epi32(_mm256_xor_si256(v.q[q], neg), neg);  // two's complement where neg
  }
  return v;
}

// out[i] = float(f·v[i]) in double, as the scalar reference.
inline void store_floats(double f, const Point8& v, float* out) {
  const __m256d vf = _mm256_set1_pd(f);
  for (int q = 0; q < 3; ++q) {
    const __m256d lo = _mm256_cvtepi32_pd(_mm256_castsi256_si128(v.q[q]));
    const __m256d hi = _mm256_cvtepi32_pd(_mm256_extracti128_si256(v.q[q], 1));
    _mm_storeu_ps(out + 8 * q, _mm256_cvtpd_ps(_mm256_mul_pd(lo, vf)));
    _mm_storeu_ps(out + 8 * q + 4, _mm256_cvtpd_ps(_mm256_mul_pd(hi, vf)));
  }
}

// acc += f·(v ⊙ x).
inline __m256 accumulate(float f, const Point8& v, const float* x, __m256 acc) {
  __m256 d = _mm256_mul_ps(_mm256_cvtepi32_ps(v.q[0]), _mm256_loadu_ps(x));
  d = _mm256_fmadd_ps(_mm256_cvtepi32_ps(v.q[1]), _mm256_loadu_ps(x + 8), d);
  d = _mm256_fmadd_ps(_mm256_cvtepi32_ps(v.q[2]), _mm256_loadu_ps(x + 16), d);
  return _mm256_fmadd_ps(_mm256_set1_ps(f), d, acc);
}

inline float horizontal_sum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

inline void clear_parts(PointMasks& p) {
  for (int k = 0; k < 2 * kMaxLevels + 2; ++k) p.mask[k] = 0, p.value[k] = 0;
}

// One pass of a profile stage over all blocks; returns a checksum so nothing is optimised away.
uint64_t run_stage(int stage, const BlockTables& t, const uint64_t* indices, const uint64_t* words, const float* x,
                   size_t n, float* out) {
  uint64_t sum = 0;
  __m256 acc = _mm256_setzero_ps();
  const bool minimal = stage <= kMinimalDot;
  for (size_t b = 0; b < n; ++b) {
    if (stage == kClassLookup) {
      sum += indices[b] ? find_class(t, indices[b]) : 0;
      continue;
    }
    PointMasks p;
    clear_parts(p);
    MinimalDigits d;
    if (minimal) {
      minimal_digits(t, indices[b], d);
      if (stage == kRadixSplit) {
        sum += d.cw + d.on[0];
        continue;
      }
      minimal_masks(t, d, p);  // magnitudes and signs together
      if (stage == kMinimalMasks) {
        sum += p.mask[0];
        continue;
      }
    } else if (stage == kSplitMagnitudes) {
      uint32_t aux = 0;
      const uint32_t id = class_of(words[b]);
      if (id) sum += decode_magnitudes(t, t.cls[id], words[b], p, &aux) + p.mask[0];
      continue;
    } else {
      decode_masks(t, words[b], p);
    }
    // Factors of the minimal path: its gain field is not part of the profile (gain 0).
    const uint64_t factor_word = minimal ? d.id : words[b];
    if (stage == kSplitSigns) {
      sum += p.neg;
    } else if (stage == kMinimalFloat || stage == kSplitFloat) {
      store_floats(block_factor(t, factor_word, 1.0f), expand(p, t.max_parts), out + kDim * b);
    } else {
      acc = accumulate(gemv_factor(t, factor_word, 1.0f), expand(p, t.max_parts), x + kDim * b, acc);
    }
  }
  return sum + static_cast<uint64_t>(horizontal_sum(acc) != 0);
}

}  // namespace

void profile_stages_avx2(const BlockTables& t, const uint64_t* indices, const uint64_t* words,
                         const float* x, size_t n, int repeats, double (*now)(), float* out, double* seconds) {
  volatile uint64_t sink = 0;
  for (int stage = 0; stage < kNumStages; ++stage) {
    double best = 1e300;
    for (int r = 0; r < repeats; ++r) {
      const double t0 = now();
      sink = sink + run_stage(stage, t, indices, words, x, n, out);
      const double dt = now() - t0;
      best = dt < best ? dt : best;
    }
    seconds[stage] = best;
  }
}

}  // namespace llvq::kernels::leech
