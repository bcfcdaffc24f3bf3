// Row kernels of the table family (E8P and scalar codecs) and the dense GEMV baselines, one
// set per ISA level. The *_avx2 / *_avx512 versions live in translation units compiled for
// that level only, so they take plain views (pointers and sizes) and share no inline code
// with the rest of the library.
#pragma once

#include <cstdint>

namespace llvq::kernels::detail {

// E8P layout: one 16-bit code per 8 weights (the codec's own code, byte-aligned), rows of
// `blocks` codes back to back, and the bf16 scales in a separate array [rows][groups].
// Decoding goes through one shared table built on first use: for each of the 65,536 codes the
// unit-scale codeword times 4 as 8 int8 (every coordinate is (±odd ± ½)/2, so 4× it is an
// integer in [−15, 15]); 512 KiB, which stays in L2. Weight = (table value × ¼) × scale,
// each step exact in float.
struct E8pView {
  const uint16_t* codes;
  const uint16_t* scales;
  int64_t blocks;        // codes per row (cols / 8)
  int64_t groups;        // scales per row
  int64_t group_blocks;  // codes per scale
  const int8_t* codewords;  // 65536 × 8
};

// Scalar-codec layout: the b-bit code of each weight is split into bit planes of 4, 2 and 1
// bits (b = 3 → 2 + 1, 7 → 4 + 2 + 1; 1, 2, 4 and 8 are one plane), each plane packing its
// fields LSB-first so that a field never straddles a byte. A row is its planes back to back,
// each padded to whole 64-bit words; scales are bf16 in a separate array [rows][groups].
struct ScalarView {
  const uint8_t* codes;
  int64_t row_bytes;
  int planes;
  int plane_bits[3];
  int plane_shift[3];       // where the plane's field sits in the code
  int64_t plane_offset[3];  // bytes from the row's start
  const uint16_t* scales;
  int64_t cols, groups, group;
  int bits;
  const double* levels;       // 2^bits levels of the codec (unit scale)
  const float* unit_levels;   // the same rounded to float (GEMV)
};

float bf16_bits_to_float(uint16_t bits);

// Reference (scalar) kernels; decode is bit-exact with Codec::decode_rows.
void e8p_decode_ref(const E8pView& v, int64_t r0, int64_t r1, float* out);
void e8p_gemv_ref(const E8pView& v, const float* x, int64_t r0, int64_t r1, float* y);
void sq_decode_ref(const ScalarView& v, int64_t r0, int64_t r1, float* out);
void sq_gemv_ref(const ScalarView& v, const float* x, int64_t r0, int64_t r1, float* y);
// Pieces of one row for the SIMD versions' tails: weights [c0, c1) of row r.
uint32_t sq_code_at(const ScalarView& v, int64_t r, int64_t c);
void sq_decode_span_ref(const ScalarView& v, int64_t r, int64_t c0, int64_t c1, float* out);
float sq_dot_span_ref(const ScalarView& v, int64_t r, int64_t c0, int64_t c1, const float* x);

void e8p_decode_avx2(const E8pView& v, int64_t r0, int64_t r1, float* out);
void e8p_gemv_avx2(const E8pView& v, const float* x, int64_t r0, int64_t r1, float* y);
void sq_decode_avx2(const ScalarView& v, int64_t r0, int64_t r1, float* out);
void sq_gemv_avx2(const ScalarView& v, const float* x, int64_t r0, int64_t r1, float* y);

void e8p_decode_avx512(const E8pView& v, int64_t r0, int64_t r1, float* out);
void e8p_gemv_avx512(const E8pView& v, const float* x, int64_t r0, int64_t r1, float* y);
void sq_decode_avx512(const ScalarView& v, int64_t r0, int64_t r1, float* out);
void sq_gemv_avx512(const ScalarView& v, const float* x, int64_t r0, int64_t r1, float* y);

// Dense rows [r0, r1) of W [·, cols]: y[r − r0] = W[r, :] · x.
void dense_f32_ref(const float* w, int64_t cols, const float* x, int64_t r0, int64_t r1, float* y);
void dense_f16_ref(const uint16_t* w, int64_t cols, const float* x, int64_t r0, int64_t r1, float* y);
void dense_f32_avx2(const float* w, int64_t cols, const float* x, int64_t r0, int64_t r1, float* y);
void dense_f16_avx2(const uint16_t* w, int64_t cols, const float* x, int64_t r0, int64_t r1, float* y);
void dense_f32_avx512(const float* w, int64_t cols, const float* x, int64_t r0, int64_t r1, float* y);
void dense_f16_avx512(const uint16_t* w, int64_t cols, const float* x, int64_t r0, int64_t r1, float* y);
// GGUF Q8_0 rows (w: rows × cols/32 blocks of kQ8_0Bytes, `cols` a multiple of 32): a block is
// an fp16 scale d and 32 int8 q, weight i = d·q_i; y = Σ_blocks d·(Σ q_i x_i).
inline constexpr int64_t kQ8_0Block = 32, kQ8_0Bytes = 34;
void dense_q8_0_ref(const uint8_t* w, int64_t cols, const float* x, int64_t r0, int64_t r1, float* y);
void dense_q8_0_avx2(const uint8_t* w, int64_t cols, const float* x, int64_t r0, int64_t r1, float* y);
void dense_q8_0_avx512(const uint8_t* w, int64_t cols, const float* x, int64_t r0, int64_t r1, float* y);
// The same for `tokens` inputs x_t = x + t·ldx, into y[t·ldy + r − r0].
void dense_f32_tokens_ref(const float* w, int64_t cols, const float* x, int64_t ldx, int64_t tokens, int64_t r0,
                          int64_t r1, float* y, int64_t ldy);
void dense_f32_tokens_avx2(const float* w, int64_t cols, const float* x, int64_t ldx, int64_t tokens, int64_t r0,
                           int64_t r1, float* y, int64_t ldy);
void dense_f32_tokens_avx512(const float* w, int64_t cols, const float* x, int64_t ldx, int64_t tokens, int64_t r0,
                             int64_t r1, float* y, int64_t ldy);

}  // namespace llvq::kernels::detail
