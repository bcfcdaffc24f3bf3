// The integer-block kernels (int_blocks_simd.hpp) compiled for the AVX2 level.
#include "kernels/int_blocks_simd.hpp"

namespace llvq::kernels::int_blocks {

void decode_rows_avx2(const View& m, int64_t r0, int64_t r1, float* out) { decode_rows_body<Lanes8>(m, r0, r1, out); }
void gemv_rows_avx2(const View& m, const float* x, int64_t r0, int64_t r1, float* y) {
  gemv_rows_body<Lanes8>(m, x, r0, r1, y);
}

}  // namespace llvq::kernels::int_blocks
