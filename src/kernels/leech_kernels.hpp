// Entry points of the Leech kernels per instruction set (scalar in leech_pack.cpp, SIMD in
// leech_kernels_avx2.cpp / leech_kernels_avx512.cpp). Plain data only crosses this boundary.
#pragma once

#include <stdint.h>

#include "kernels/leech_block.hpp"

namespace llvq::kernels::leech {

// A packed matrix as the kernels see it: split words [rows][blocks], one float scale per
// group of blocks ([rows][groups]).
struct MatrixView {
  const BlockTables* tables;
  const uint64_t* words;
  const float* scales;
  int64_t blocks;            // per row
  int64_t groups;            // scales per row
  int64_t blocks_per_group;
};

// Rows [r0, r1) into out[(r − r0)·24·blocks + c].
void decode_rows_scalar(const MatrixView& m, int64_t r0, int64_t r1, float* out);
void decode_rows_avx2(const MatrixView& m, int64_t r0, int64_t r1, float* out);
void decode_rows_avx512(const MatrixView& m, int64_t r0, int64_t r1, float* out);
// y[r − r0] = Σ_c W[r, c]·x[c].
void gemv_rows_scalar(const MatrixView& m, const float* x, int64_t r0, int64_t r1, float* y);
void gemv_rows_avx2(const MatrixView& m, const float* x, int64_t r0, int64_t r1, float* y);
void gemv_rows_avx512(const MatrixView& m, const float* x, int64_t r0, int64_t r1, float* y);

}  // namespace llvq::kernels::leech
