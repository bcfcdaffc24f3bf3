// The GLVQ kernels' layout (pack_grouped_lattice, llvq/kernels.hpp) and their row kernels, one
// set per ISA level (glvq_pack.cpp: the scalar reference; glvq_kernels_simd.hpp: the SIMD body).
//
// Codes are stored row-major: a row holds its groups' codes back to back, group g taking
// width_g·b_g bits, LSB first. Every width is a multiple of 8, so each group's codes start on
// a byte and 8 codes take exactly b bytes: the SIMD kernels unpack 8 (AVX-512: 16) codes from
// two overlapping 8-byte loads and per-lane shifts, with no gather and no pdep/pext.
//
// Without companding the decoded row is linear in the codes: ⟨G·(z − c), x⟩ = ⟨z, Gᵀx⟩ − c·Σ Gᵀx,
// so the GEMV transforms x once per call (x' = Gᵀx per block, in the unpack's lane order) and
// then runs a plain integer-code dot product per row. With companding each block is decoded and
// multiplied by x: at D = 8 through per-group tables of small chunks of codes, where
// e^(a·y) (a = ln(1+μ), y = G·(z − c)) is the product of the chunks' e^(a·y_t) and the
// expansion (s/μ)·sign(y)·(e^(a|y|) − 1) = (s/μ)·(P − 1)/min(P, 1) with P = e^(a·y), so no
// exponential is evaluated per weight; at D = 24 and 32 by G·z and a polynomial exp.
#pragma once

#include <cstdint>

namespace llvq::kernels::glvq {

inline constexpr int kMaxBits = 9;
// Bytes after the last row that the unpack may read (its loads start inside a row).
inline constexpr int64_t kCodePadding = 32;

struct Group {
  int64_t col0 = 0;        // first column
  int width = 0;           // columns, a multiple of dim
  int bits = 0;            // 0..kMaxBits; 0 decodes to zeros
  int64_t row_offset = 0;  // bytes from a row's start to this group's codes
  float center = 0;        // (2^bits − 1)/2
  bool expand = false;     // μ-law companding
  float log1p_mu = 0, scale_over_mu = 0;  // expansion: w = (s/μ)·sign(y)·expm1(ln(1+μ)·|y|)
  double mu = 0, scale = 0;               // the same in double (reference)
  const float* g_cols = nullptr;    // D×D, column-major
  const float* g_offset = nullptr;  // D: c·G·1
  // Chunk tables of a companding group at D = 8: the block's codes in chunks of `chunk_codes`
  // (1 or 2; 0: no tables, G·z computed); chunk t holds, for each of its 2^(k·b) code values,
  // the 8 values e^(ln(1+μ)·y_t), y_t its share of G·(z − c), so e^(ln(1+μ)·y) is the product
  // of the chunks' vectors.
  int chunk_codes = 0;
  const float* table = nullptr;  // [D/k chunks][2^(k·b) values][D]
  // The SIMD unpack's per-lane 64-bit shifts for this width (glvq_kernels_simd.hpp), set by
  // set_unpack_shifts: 8 codes (AVX2 and the decode) take codes 0..3 by right shifts of the
  // word at the segment's byte and codes 4..7 by left shifts of the word at byte `hi_byte8`;
  // 16 codes (AVX-512, b ≤ 8) take codes 0..7 and 8..15 by the same right shifts i·b of the
  // words at bytes 0 and b.
  alignas(64) int64_t shift8[8] = {};
  alignas(64) int64_t shift16[8] = {};
  int64_t hi_byte8 = 0;
};

void set_unpack_shifts(Group& grp);

struct View {
  int64_t rows = 0, cols = 0;
  int dim = 8;
  int groups = 0;
  const Group* group = nullptr;
  const uint8_t* codes = nullptr;
  int64_t row_bytes = 0;
  const float* row_scale = nullptr;  // null: none
  bool linear = true;                 // no group expands
};

namespace {  // internal linkage: each ISA file compiles its own copy

// Code i of a group's segment (reference and tails).
inline uint32_t code_at(const uint8_t* segment, int bits, int64_t i) {
  const int64_t bit = i * bits;
  uint32_t v = 0;
  for (int k = 0; k < bits; ++k) v |= static_cast<uint32_t>(segment[(bit + k) >> 3] >> ((bit + k) & 7) & 1u) << k;
  return v;
}

}  // namespace

// x in the linear GEMV's order: per group with codes, its x' = Gᵀx blocks with the chunks of
// `lanes` columns permuted by `lane_column` (lane → column within the chunk), zero-padded to a
// whole chunk; `bias` = Σ_g c_g·Σ x'_g. Groups of more than `max_bits` bits keep x' in column
// order (their rows take the scalar path). A plain view (the SIMD files hold no std::
// containers: glvq_kernels_simd.hpp) of buffers owned by the calling thread, valid until its
// next call.
struct LinearInput {
  const float* xp;         // group g at xp + offset[g]
  const int64_t* offset;
  double bias;
};
LinearInput prepare_linear(const View& v, const float* x, int lanes, const int* lane_column, int max_bits);

void decode_rows_ref(const View& v, int64_t r0, int64_t r1, float* out);
void gemv_rows_ref(const View& v, const float* x, int64_t r0, int64_t r1, float* y);
void decode_rows_avx2(const View& v, int64_t r0, int64_t r1, float* out);
void gemv_rows_avx2(const View& v, const float* x, int64_t r0, int64_t r1, float* y);
void decode_rows_avx512(const View& v, int64_t r0, int64_t r1, float* out);
void gemv_rows_avx512(const View& v, const float* x, int64_t r0, int64_t r1, float* y);

}  // namespace llvq::kernels::glvq
