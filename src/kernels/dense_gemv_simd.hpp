// The dense GEMV rows (fp32 and fp16 weights), written once over a per-ISA traits type V and
// included only by dense_gemv_avx2.cpp and dense_gemv_avx512.cpp, each of which defines its
// traits first. V supplies: Vec, kLanes and kAccumulators (vector registers the batched rows
// may keep as accumulators); zero(); set1(float); load(const float*) and load(const
// uint16_t*) (fp16 widened with F16C); widen(const int8_t*) (kLanes int8 as floats); mul(a, b);
// fma(a, b, acc); and finish(acc, w, x, c, cols), which adds the columns [c, cols) that do not
// fill a vector (AVX-512: one masked step; AVX2: a scalar loop) and returns the sum of the lanes.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/table_simd.hpp"
#include "kernels/token_chunks.hpp"

namespace llvq::kernels::detail {
namespace {

// Four rows per pass share each load of x.
template <class V, class T>
void dense_rows4(const T* w, int64_t cols, const float* x, float* y) {
  const T* row[4] = {w, w + cols, w + 2 * cols, w + 3 * cols};
  typename V::Vec acc[4] = {V::zero(), V::zero(), V::zero(), V::zero()};
  int64_t c = 0;
  for (; c + V::kLanes <= cols; c += V::kLanes) {
    const typename V::Vec xv = V::load(x + c);
    for (int i = 0; i < 4; ++i) acc[i] = V::fma(V::load(row[i] + c), xv, acc[i]);
  }
  for (int i = 0; i < 4; ++i) y[i] = V::finish(acc[i], row[i], x, c, cols);
}

// One row, two accumulators (two independent FMA chains).
template <class V, class T>
void dense_row1(const T* w, int64_t cols, const float* x, float* y) {
  typename V::Vec a0 = V::zero(), a1 = V::zero();
  int64_t c = 0;
  for (; c + 2 * V::kLanes <= cols; c += 2 * V::kLanes) {
    a0 = V::fma(V::load(w + c), V::load(x + c), a0);
    a1 = V::fma(V::load(w + c + V::kLanes), V::load(x + c + V::kLanes), a1);
  }
  if (c + V::kLanes <= cols) {
    a0 = V::fma(V::load(w + c), V::load(x + c), a0);
    c += V::kLanes;
  }
  *y = V::finish(V::add(a0, a1), w, x, c, cols);
}

template <class V, class T>
void dense_rows(const T* w, int64_t cols, const float* x, int64_t r0, int64_t r1, float* y) {
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4) dense_rows4<V>(w + r * cols, cols, x, y + (r - r0));
  for (; r < r1; ++r) dense_row1<V>(w + r * cols, cols, x, y + (r - r0));
}

// A Q8_0 block's fp16 scale (its first two bytes, little-endian), by F16C as every level has it.
inline float q8_0_scale(const uint8_t* block) { return _cvtsh_ss(static_cast<uint16_t>(block[0] | block[1] << 8)); }

// Q8_0 rows (table_simd.hpp): per block the products q_i·x_i summed in one vector, then one
// multiply-add by the block's scale into one of two accumulators (even and odd blocks, so that
// consecutive blocks' last multiply-adds do not wait on each other).
template <class V>
void dense_q8_0_rows(const uint8_t* w, int64_t cols, const float* x, int64_t r0, int64_t r1, float* y) {
  const int64_t blocks = cols / kQ8_0Block;
  const auto block_dot = [&](const uint8_t* block, const float* xb, typename V::Vec acc) {
    const auto* q = reinterpret_cast<const int8_t*>(block + 2);
    typename V::Vec dot = V::mul(V::widen(q), V::load(xb));
    for (int64_t i = V::kLanes; i < kQ8_0Block; i += V::kLanes) dot = V::fma(V::widen(q + i), V::load(xb + i), dot);
    return V::fma(V::set1(q8_0_scale(block)), dot, acc);
  };
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = w + r * blocks * kQ8_0Bytes;
    typename V::Vec even = V::zero(), odd = V::zero();
    int64_t b = 0;
    for (; b + 1 < blocks; b += 2) {
      even = block_dot(row + b * kQ8_0Bytes, x + b * kQ8_0Block, even);
      odd = block_dot(row + (b + 1) * kQ8_0Bytes, x + (b + 1) * kQ8_0Block, odd);
    }
    if (b < blocks) even = block_dot(row + b * kQ8_0Bytes, x + b * kQ8_0Block, even);
    y[r - r0] = V::finish(V::add(even, odd), x, x, cols, cols);  // no column tail: cols is whole blocks
  }
}

// kRows rows × kTokens inputs (x_t = x + t·ldx) per pass: each load of W feeds kTokens FMAs and
// each load of x kRows, so W is read once for all tokens and x once per kRows rows. (x for
// several tokens outgrows L1; streamed from L2 for every row, 4 tokens at 4104 columns took
// 2.3× one GEMV's time, for every 4 rows 1.2×.)
template <class V, int kRows, int kTokens>
void dense_block_tokens(const float* w, int64_t cols, const float* x, int64_t ldx, float* y, int64_t ldy) {
  typename V::Vec acc[kRows][kTokens];
  for (auto& row : acc)
    for (auto& a : row) a = V::zero();
  int64_t c = 0;
  for (; c + V::kLanes <= cols; c += V::kLanes) {
    typename V::Vec wv[kRows];
    for (int i = 0; i < kRows; ++i) wv[i] = V::load(w + i * cols + c);
    for (int t = 0; t < kTokens; ++t) {
      const typename V::Vec xv = V::load(x + t * ldx + c);
      for (int i = 0; i < kRows; ++i) acc[i][t] = V::fma(wv[i], xv, acc[i][t]);
    }
  }
  for (int i = 0; i < kRows; ++i)
    for (int t = 0; t < kTokens; ++t) y[t * ldy + i] = V::finish(acc[i][t], w + i * cols, x + t * ldx, c, cols);
}

// Rows [r0, r1) for kTokens inputs: blocks of as many rows as the traits' accumulator budget
// (V::kAccumulators vector registers) allows, then single rows.
template <class V, int kTokens>
void dense_rows_chunk(const float* w, int64_t cols, const float* x, int64_t ldx, int64_t r0, int64_t r1, float* y,
                      int64_t ldy) {
  constexpr int kRows = V::kAccumulators / kTokens > 1 ? V::kAccumulators / kTokens : 1;
  int64_t r = r0;
  for (; r + kRows <= r1; r += kRows)
    dense_block_tokens<V, kRows, kTokens>(w + r * cols, cols, x, ldx, y + (r - r0), ldy);
  for (; r < r1; ++r) dense_block_tokens<V, 1, kTokens>(w + r * cols, cols, x, ldx, y + (r - r0), ldy);
}

// Rows [r0, r1) for `tokens` inputs, into y[t·ldy + r − r0]: chunks of 8, 4, 2 and 1 tokens.
template <class V>
void dense_rows_tokens(const float* w, int64_t cols, const float* x, int64_t ldx, int64_t tokens, int64_t r0,
                       int64_t r1, float* y, int64_t ldy) {
  for_token_chunks(tokens, [&](auto chunk, int64_t t) {
    dense_rows_chunk<V, chunk()>(w, cols, x + t * ldx, ldx, r0, r1, y + t * ldy, ldy);
  });
}

}  // namespace
}  // namespace llvq::kernels::detail
