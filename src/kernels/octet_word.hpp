// The CPU kernels' layout of the Leech-ball codes (llvq-sg, llvq-ss at 2 bpw, l24sq): the
// "octet word", 64 bits per 24-weight block, which decodes with three table lookups of
// 8-weight patterns, the way E8P decodes 8 weights with one. docs/kernels-leech.md explains
// the construction; this header holds the layout and the scalar reference decode.
//
// A point v of J = √8·Λ24 is t·1 + 2c + 4d with t ∈ {0, 1} (odd or even point), c a Golay
// codeword and d ∈ Z²⁴. A trio of disjoint octads O0, O1, O2 cuts v into three octets; C24
// restricted to an octad is the even-weight code, so each octet's part of c has even weight.
// Every octet then belongs to one of six pattern types, each with one table of 8-vectors
// sorted by norm:
//   odd (t = 1):   octet = sign(c_k) ⊙ p with every p_i ≡ 1 mod 4 (c_k's slots negated);
//   even (t = 0):  octet = p permuted, p's first w = |c_k| entries ≡ 2 mod 4, the rest ≡ 0,
//                  w = 0, 2, 4, 6, 8 (five types); the permutation puts them on c_k's slots.
// Word fields, LSB first:
//   [0, G)         gain index (G = gain bits, 0 for the ball)
//   [G, G + 13)    t | Golay message << 1: the "glue" of the block (index into glue[])
//   j0, j1, j2     each octet's position in its type's table (widths b0 ≥ b1 ≥ b2, 51 − G in
//                  all); j0 = 2^b0 − 1 marks an escape: the bits from j1 on then index the
//                  matrix's escape list, which holds the few points whose octets lie past
//                  the tables (an octet carrying almost all of the block's norm).
#pragma once

#include <stdint.h>
#include <string.h>

#include "llvq/leech.hpp"

#ifndef LLVQ_OCTET_ISA_NS
#define LLVQ_OCTET_ISA_NS portable
#endif

namespace llvq::kernels::octet {

using ::llvq::leech::kDim;
inline constexpr int kTypes = 6;       // odd, even w = 0, 2, 4, 6, 8
inline constexpr int kGlueBits = 13;   // t and the 12-bit Golay message
inline constexpr int kMaxGains = 16;
inline constexpr int kMaxShells = 17;  // shells 0..16

enum class Kind : int32_t { ShapeGain = 0, Ball = 1 };

// The GEMV reads the word this many blocks ahead (to prefetch its glue), so the words are
// followed by that much padding: no bound check per block.
inline constexpr int64_t kWordsAhead = 16;

// One block that the tables do not reach, in trio order (bytes 24..31 hold the norm).
struct Escape {
  int8_t v[kDim];
  uint16_t norm;
  uint8_t pad[6];
};
static_assert(sizeof(Escape) == 32);

// Glue entry of (t, message), one 64-bit word: bits 0..23 the octets' sign masks (odd: c_k;
// even: 0), 24..47 their permutation ids (even: c_k; odd: 0 = identity), 48..56 their pattern
// types (3 bits per octet).
inline constexpr int kSignShift = 0, kPermShift = 24, kTypeShift = 48;

inline uint32_t glue_sign(uint64_t glue) { return static_cast<uint32_t>(glue >> kSignShift) & 0xFFFFFF; }
inline uint32_t glue_perm(uint64_t glue, int k) { return static_cast<uint32_t>(glue >> (kPermShift + 8 * k)) & 0xFF; }
inline uint32_t glue_type(uint64_t glue, int k) { return static_cast<uint32_t>(glue >> (kTypeShift + 3 * k)) & 7; }

// The glue of a block unpacked for the one-block SIMD GEMV, so that its index arithmetic is a
// few additions with memory operands: per octet, the first table entry of its pattern type
// (type << entry_bits) and the byte offset of its control row in View::octet_ctl.
struct GlueLanes {
  uint32_t entry_base[3];
  uint16_t ctl[3];
  uint16_t pad[7];
};
static_assert(sizeof(GlueLanes) == 32);

// A control row of View::octet_ctl, per (t, c_k): 8 bytes of byte shuffle that apply an even
// point's in-octet permutation (identity for an odd point), then 8 bytes of vpsignb operand
// (+1 / −1 per slot) that apply an odd point's signs (all +1 for an even point). The kernels
// read 16 bytes at either half (only the low 8 bytes of their results are used), so the table
// ends with 8 bytes of padding; 8 KiB in all, to stay in L1.
inline constexpr int kCtlRowBytes = 16;
inline constexpr int kCtlRows = 512;  // t << 8 | c_k

// Everything a kernel reads: the shared tables and one packed matrix.
struct View {
  // Tables (OctetTables, shared by every matrix of the codec).
  Kind kind;
  int gain_bits;
  int entry_bits;            // each type's table has 2^entry_bits slots
  int j_shift[3];
  uint32_t j_mask[3];
  uint32_t escape_mark;      // j0 of an escape word
  const int8_t* patterns;    // [type << entry_bits | j][8]
  // [type << entry_bits | j]: |pattern|²/8, one byte so that the norms of the entries in use
  // stay in L1 (the GEMV reads three per block).
  const uint8_t* norm8;
  const uint64_t* glue;      // [2^13]
  const uint8_t* perms;      // [256][8]: octet slot i takes canonical entry perms[8·id + i]
  const GlueLanes* glue_lanes;  // [2^13]: glue[] unpacked
  const int8_t* octet_ctl;   // [kCtlRows][kCtlRowBytes] + 8 bytes
  const uint8_t* trio;       // [24]: natural position of trio slot s
  const uint8_t* natural_ctl;  // [2][32]: byte shuffles trio order → natural order (within, across lanes)
  // [shell << gain_bits | g]: level[g]/√(16·shell) (ShapeGain), 1/s (Ball). Shell-major, so
  // that the index is |v|² >> (4 − gain_bits) | g (|v|² is 16·shell).
  const float* gemv_factor;
  const double* gain_level;  // [kMaxGains]
  const double* sqrt_norm;   // [kMaxShells]: √(16·shell), 1 for shell 0
  double lattice_scale;
  // The matrix.
  const uint64_t* words;     // [rows][blocks], then kWordsAhead readable words of padding
  const float* scales;       // [rows][groups]
  const Escape* escapes;
  int64_t blocks, groups, blocks_per_group;
};

inline namespace LLVQ_OCTET_ISA_NS {

inline uint32_t field(uint64_t word, int shift, uint32_t mask) { return static_cast<uint32_t>(word >> shift) & mask; }
inline uint32_t gain_of(const View& m, uint64_t word) {
  return static_cast<uint32_t>(word) & ((1u << m.gain_bits) - 1);
}
inline uint64_t glue_of(const View& m, uint64_t word) {
  return m.glue[field(word, m.gain_bits, (1u << kGlueBits) - 1)];
}
inline bool is_escape(const View& m, uint64_t word) { return field(word, m.j_shift[0], m.j_mask[0]) == m.escape_mark; }
inline const Escape& escape_of(const View& m, uint64_t word) { return m.escapes[word >> m.j_shift[1]]; }

// Table entry (type << entry_bits | j) of octet k.
inline uint32_t entry_of(const View& m, uint64_t word, uint64_t glue, int k) {
  return glue_type(glue, k) << m.entry_bits | field(word, m.j_shift[k], m.j_mask[k]);
}

// Scalar reference: the point in trio order (u[s] is coordinate trio[s]) and |v|².
inline uint32_t point_trio(const View& m, uint64_t word, int32_t* u) {
  if (is_escape(m, word)) {
    const Escape& e = escape_of(m, word);
    for (int s = 0; s < kDim; ++s) u[s] = e.v[s];
    return e.norm;
  }
  const uint64_t glue = glue_of(m, word);
  uint32_t norm = 0;
  for (int k = 0; k < 3; ++k) {
    const uint32_t entry = entry_of(m, word, glue, k);
    const int8_t* p = m.patterns + 8 * static_cast<uint64_t>(entry);
    const uint8_t* perm = m.perms + 8 * glue_perm(glue, k);
    const uint32_t neg = glue_sign(glue) >> (8 * k) & 0xFF;
    for (int i = 0; i < 8; ++i) u[8 * k + i] = (neg >> i & 1) ? -p[perm[i]] : p[perm[i]];
    norm += 8u * m.norm8[entry];
  }
  return norm;
}

// The point in natural coordinate order.
inline uint32_t point(const View& m, uint64_t word, int32_t* v) {
  int32_t u[kDim];
  const uint32_t norm = point_trio(m, word, u);
  for (int s = 0; s < kDim; ++s) v[m.trio[s]] = u[s];
  return norm;
}

// Reconstruction factor, xhat_i = float(f·v_i) in double: the arithmetic of
// Codec::decode_rows (σ·level[g]/|v| for shape–gain, σ/s for the ball).
inline double block_factor(const View& m, uint64_t word, uint32_t norm, float scale) {
  if (m.kind == Kind::Ball) return static_cast<double>(scale) / m.lattice_scale;
  return static_cast<double>(scale) * m.gain_level[gain_of(m, word)] / m.sqrt_norm[norm >> 4];
}

// The same factor in float for the fused GEMV: σ·(level[g]/|v|), one rounding more.
inline float gemv_factor(const View& m, uint64_t word, uint32_t norm, float scale) {
  return scale * m.gemv_factor[(norm >> 4) << m.gain_bits | gain_of(m, word)];
}

inline void decode_block(const View& m, uint64_t word, float scale, float* out) {
  int32_t v[kDim];
  const uint32_t norm = point(m, word, v);
  const double f = block_factor(m, word, norm, scale);
  for (int i = 0; i < kDim; ++i) out[i] = static_cast<float>(f * v[i]);
}

// f·Σ v_i x_i, the sum in float in coordinate order.
inline float dot_block(const View& m, uint64_t word, float scale, const float* x) {
  int32_t v[kDim];
  const uint32_t norm = point(m, word, v);
  float s = 0;
  for (int i = 0; i < kDim; ++i) s += static_cast<float>(v[i]) * x[i];
  return gemv_factor(m, word, norm, scale) * s;
}

}  // namespace LLVQ_OCTET_ISA_NS

// Row kernels per instruction set (scalar reference in octet_pack.cpp).
void decode_rows_scalar(const View& m, int64_t r0, int64_t r1, float* out);
void gemv_rows_scalar(const View& m, const float* x, int64_t r0, int64_t r1, float* y);
void decode_rows_avx2(const View& m, int64_t r0, int64_t r1, float* out);
void gemv_rows_avx2(const View& m, const float* x, int64_t r0, int64_t r1, float* y);
void decode_rows_avx512(const View& m, int64_t r0, int64_t r1, float* out);
void gemv_rows_avx512(const View& m, const float* x, int64_t r0, int64_t r1, float* y);

}  // namespace llvq::kernels::octet
