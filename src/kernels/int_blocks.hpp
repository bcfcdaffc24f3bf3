// The integer-block layout (pack_integer_blocks, llvq/kernels.hpp) and its row kernels, one set
// per ISA level: int_blocks_pack.cpp holds the scalar reference, int_blocks_simd.hpp the SIMD
// body. A block is 24 int8 values v and one float factor f: w = f·v.
#pragma once

#include <cstdint>

namespace llvq::kernels::int_blocks {

inline constexpr int kBlock = 24;

struct View {
  int64_t rows = 0, cols = 0, blocks = 0;  // blocks per row
  const int8_t* values = nullptr;          // rows·cols
  const float* factors = nullptr;          // rows·blocks
};

void decode_rows_ref(const View& m, int64_t r0, int64_t r1, float* out);
void gemv_rows_ref(const View& m, const float* x, int64_t r0, int64_t r1, float* y);
void decode_rows_avx2(const View& m, int64_t r0, int64_t r1, float* out);
void gemv_rows_avx2(const View& m, const float* x, int64_t r0, int64_t r1, float* y);
void decode_rows_avx512(const View& m, int64_t r0, int64_t r1, float* out);
void gemv_rows_avx512(const View& m, const float* x, int64_t r0, int64_t r1, float* y);

}  // namespace llvq::kernels::int_blocks
