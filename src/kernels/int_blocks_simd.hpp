// The SIMD body of the integer-block kernels (int_blocks.hpp), written once over a traits type
// (int_blocks_avx2.cpp and int_blocks_avx512.cpp compile it for their level): a block is three
// 8-byte loads widened to float, three multiply-adds with x and one with the block's factor.
#pragma once

#include <immintrin.h>

#include "kernels/int_blocks.hpp"
#include "kernels/simd_sum.hpp"

namespace llvq::kernels::int_blocks {
namespace {

// 8 float lanes: AVX2, and the same instructions EVEX-encoded at the AVX-512 level (a block of
// 24 is three 8-lane vectors; 16 lanes would need blocks in pairs and a blend of two factors).
struct Lanes8 {
  using Vec = __m256;
  static constexpr int kLanes = 8;
  static Vec zero() { return _mm256_setzero_ps(); }
  static Vec set1(float v) { return _mm256_set1_ps(v); }
  static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  // 8 int8 at p as 8 floats.
  static Vec widen(const int8_t* p) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
  static void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
  static Vec mul(Vec a, Vec b) { return _mm256_mul_ps(a, b); }
  static Vec add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
  static Vec fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
  static float sum(Vec v) { return sum8(v); }
};

template <class T>
void decode_rows_body(const View& m, int64_t r0, int64_t r1, float* out) {
  for (int64_t r = r0; r < r1; ++r)
    for (int64_t b = 0; b < m.blocks; ++b) {
      const int8_t* v = m.values + r * m.cols + b * kBlock;
      const typename T::Vec f = T::set1(m.factors[r * m.blocks + b]);
      float* o = out + (r - r0) * m.cols + b * kBlock;
      for (int k = 0; k < kBlock; k += T::kLanes) T::store(o + k, T::mul(f, T::widen(v + k)));
    }
}

// Two accumulators (even and odd blocks), so that consecutive blocks' final multiply-adds do
// not wait on each other: a block's other work is shorter than that latency chain.
template <class T>
void gemv_rows_body(const View& m, const float* x, int64_t r0, int64_t r1, float* y) {
  auto block = [&](const int8_t* v, const float* xb, typename T::Vec acc, float factor) {
    typename T::Vec d = T::mul(T::widen(v), T::load(xb));
    for (int k = T::kLanes; k < kBlock; k += T::kLanes) d = T::fma(T::widen(v + k), T::load(xb + k), d);
    return T::fma(T::set1(factor), d, acc);
  };
  for (int64_t r = r0; r < r1; ++r) {
    const int8_t* row = m.values + r * m.cols;
    const float* f = m.factors + r * m.blocks;
    typename T::Vec even = T::zero(), odd = T::zero();
    int64_t b = 0;
    for (; b + 1 < m.blocks; b += 2) {
      even = block(row + b * kBlock, x + b * kBlock, even, f[b]);
      odd = block(row + (b + 1) * kBlock, x + (b + 1) * kBlock, odd, f[b + 1]);
    }
    if (b < m.blocks) even = block(row + b * kBlock, x + b * kBlock, even, f[b]);
    y[r - r0] = T::sum(T::add(even, odd));
  }
}

}  // namespace
}  // namespace llvq::kernels::int_blocks
