// The horizontal sum of 8 float lanes, shared by the SIMD kernel files. Each *_avx2.cpp /
// *_avx512.cpp file that includes it gets its own copy (internal linkage), compiled for its
// level, so no instruction of one level can reach the other's callers.
#pragma once

#include <immintrin.h>

namespace llvq::kernels {
namespace {

inline float sum8(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
}

}  // namespace
}  // namespace llvq::kernels
