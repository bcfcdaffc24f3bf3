// The CPU kernels' layout of the Leech-ball codes (llvq-sg, llvq-ss at 2 bpw, l24sq): the
// "octet word", 56 bits per 24-weight block at 2 bpw, which decodes with three table lookups of
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
// Word fields, LSB first (56 bits when the codec's minimal code has ≤ 48 bits, else 64):
//   [0, G)         gain index (G = gain bits, 0 for the ball)
//   [G, G + 13)    t | Golay message << 1: the "glue" of the block (index into glue[])
//   [G + 13, +3)   the field layout s of the octets' positions: s < 7 gives the widths
//                  (a_s, b_s, c_s) of j0, j1, j2, each octet's position in its type's table
//                  (View::layouts; seven layouts chosen per codec so that blocks with one
//                  large octet and blocks with three medium ones both fit); s = 7 marks an
//                  escape: the bits from j0 on then index the matrix's escape list, which
//                  holds the few points whose octets fit no layout.
// The words are stored back to back in word_bytes (7 or 8) bytes each; word_at loads one.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernels/host_device.hpp"
#include "llvq/leech.hpp"

#ifndef LLVQ_OCTET_ISA_NS
#define LLVQ_OCTET_ISA_NS portable
#endif

namespace llvq::kernels::octet {

using ::llvq::leech::kDim;
inline constexpr int kTypes = 6;       // odd, even w = 0, 2, 4, 6, 8
inline constexpr int kGlueBits = 13;   // t and the 12-bit Golay message
inline constexpr int kLayoutBits = 3;
inline constexpr int kLayouts = 7;       // field layouts; layout 7 marks an escape
inline constexpr uint32_t kEscapeLayout = 7;
inline constexpr int kEntryBits = 17;    // each type's table has 2^17 slots
inline constexpr int kMaxGains = 16;
inline constexpr int kMaxShells = 17;  // shells 0..16

enum class Kind : int32_t { ShapeGain = 0, Ball = 1 };

// The GEMV reads the word this many blocks ahead (to prefetch its glue), so the words are
// followed by that much padding: no bound check per block.
inline constexpr int64_t kWordsAhead = 16;
// word_at reads the 8 bytes that end at a word's last byte: one byte before the first word
// of a 7-byte layout, so the words are preceded by this much padding.
inline constexpr int64_t kWordsBefore = 8;

// Field layout s of a word: j_k = the width[k] bits of the word from bit shift[k] (j2, the top
// field, takes every bit above; the word's unused high bits are zero). `packed` is the same
// for the one-block GEMV, in one load: width[0] | (shift[1] + lead) << 8 | width[1] << 16 |
// (shift[2] + lead) << 24, lead = the bits below the word in its 8-byte load (word_end).
struct FieldLayout {
  uint64_t packed;
  uint8_t shift[3];
  uint8_t width[3];
  uint8_t pad[2];
};
static_assert(sizeof(FieldLayout) == 16);

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

// In the ISA namespace, as every inline function here: an ISA file's copy must not be the one
// the linker keeps for the other files (cmake/check_isa_objects.cmake). The glue accessors are
// shared with the CUDA kernels (kernels/cuda/octet_block.hpp).
inline namespace LLVQ_OCTET_ISA_NS {
LLVQ_HD inline uint32_t glue_sign(uint64_t glue) { return static_cast<uint32_t>(glue >> kSignShift) & 0xFFFFFF; }
LLVQ_HD inline uint32_t glue_perm(uint64_t glue, int k) {
  return static_cast<uint32_t>(glue >> (kPermShift + 8 * k)) & 0xFF;
}
LLVQ_HD inline uint32_t glue_type(uint64_t glue, int k) {
  return static_cast<uint32_t>(glue >> (kTypeShift + 3 * k)) & 7;
}
// Coordinate i of a table pattern from its stored byte (Arena::patterns): the low 7 bits,
// sign-extended.
LLVQ_HD inline int8_t pattern_value(int8_t stored) {
  return static_cast<int8_t>(static_cast<int8_t>(static_cast<uint8_t>(stored) << 1) >> 1);
}
}  // namespace LLVQ_OCTET_ISA_NS

// The glue of a block unpacked for the one-block SIMD GEMV, one cache line per glue index, so
// that a block's glue costs one (prefetched) line and its index arithmetic is a few additions
// with memory operands. Per octet k: the first table entry of its pattern type
// (type << entry_bits); the byte shuffle that permutes its 8-byte pattern (an even point's
// in-octet permutation; the identity for odd points) at shuffle + 8k; the signs for psignb (+1,
// or −1 on the slots of c_k for odd points) at sign + 8k. The kernels read 16 bytes from each
// of these (only the low 8 bytes of the results are used): the entry bases fill the bytes that
// follow each 24-byte run, so every read stays inside the line. (Until 2026-12-06 the controls
// were rows of a separate 8 KiB table that the lanes pointed at: one load and one addition more
// per octet.)
struct alignas(64) GlueLanes {
  int8_t shuffle[24];
  uint32_t base01[2];  // entry_base of octets 0 and 1
  int8_t sign[24];
  uint32_t base2;      // entry_base of octet 2
  uint32_t pad;
};
static_assert(sizeof(GlueLanes) == 64 && offsetof(GlueLanes, sign) == 32 && offsetof(GlueLanes, base2) == 56);

// The tables the one-block GEMV reads, in one allocation at fixed offsets (OctetTables owns
// it), so that the loop addresses all of them from one register with constant displacements:
// with a pointer per table it ran out of registers and reloaded three of them from the stack
// on every block.
struct alignas(64) Arena {
  // [type << kEntryBits | j]. Eight bytes an entry, signs applied from the control row: a real
  // weight matrix reads ~7·10^4 distinct entries, so the table's cache footprint weighs on the
  // GEMV as much as its instruction count (docs/kernels-leech.md).
  // Byte i holds p_i in its low 7 bits (two's complement; |p_i| ≤ 16). Bit 7 is, in the tables
  // of a shape–gain code, bit i of |p|²/8: the one-block GEMV needs each block's |v|² and takes
  // it from the pattern's own bytes (one vpmovmskb) instead of a read of norm8, which cost a
  // cache line per octet (llvq-sg 18% slower than llvq-ss, docs/kernels-leech.md). In a ball
  // code's tables it is the sign bit, so the byte is p_i itself. pattern_value reads either.
  int8_t patterns[kTypes << kEntryBits][8];
  uint8_t norm8[kTypes << kEntryBits];       // |pattern|²/8
  GlueLanes glue_lanes[1 << kGlueBits];
  FieldLayout layouts[kLayouts + 1];
  float gemv_factor[kMaxGains * kMaxShells];
};

// Everything a kernel reads: the shared tables and one packed matrix.
struct View {
  // Tables (OctetTables, shared by every matrix of the codec).
  Kind kind;
  int gain_bits;
  int entry_bits;            // each type's table has 2^entry_bits slots
  int word_bytes;            // 7 or 8
  const Arena* arena;        // the tables below that live in it, for the SIMD kernels
  const FieldLayout* layouts;  // [8]; row kEscapeLayout is all zero
  const int8_t* patterns;    // [type << entry_bits | j][8], stored as in Arena::patterns
  // [type << entry_bits | j]: |pattern|²/8, one byte so that the norms of the entries in use
  // stay in L1 (the GEMV reads three per block).
  const uint8_t* norm8;
  const uint64_t* glue;      // [2^13]
  const uint8_t* perms;      // [256][8]: octet slot i takes canonical entry perms[8·id + i]
  const GlueLanes* glue_lanes;  // [2^13]: glue[] unpacked
  const uint8_t* trio;       // [24]: natural position of trio slot s
  const uint8_t* natural_ctl;  // [2][32]: byte shuffles trio order → natural order (within, across lanes)
  // [shell << gain_bits | g]: level[g]/√(16·shell) (ShapeGain), 1/s (Ball). Shell-major, so
  // that the index is |v|² >> (4 − gain_bits) | g (|v|² is 16·shell).
  const float* gemv_factor;
  const double* gain_level;  // [kMaxGains]
  const double* sqrt_norm;   // [kMaxShells]: √(16·shell), 1 for shell 0
  double lattice_scale;
  // The matrix.
  const uint8_t* words;      // [rows][blocks] words of word_bytes bytes; kWordsBefore readable
                             // bytes before, kWordsAhead + 8 words of padding after
  const uint16_t* scales;    // [rows][groups], bfloat16 as in the file
  const Escape* escapes;
  int64_t blocks, groups, blocks_per_group;
};

inline namespace LLVQ_OCTET_ISA_NS {

inline int64_t load64(const void* p) {
  int64_t v;
  memcpy(&v, p, 8);
  return v;
}
// The 8 bytes that end at the last byte of word i, and the shift that drops the bytes below it.
inline const uint8_t* word_end(const View& m, int64_t i) { return m.words + (i + 1) * m.word_bytes - 8; }
inline int word_lead(const View& m) { return 64 - 8 * m.word_bytes; }
// Word i of the matrix (row-major), bit 0 its first bit.
inline uint64_t word_at(const View& m, int64_t i) {
  return static_cast<uint64_t>(load64(word_end(m, i))) >> word_lead(m);
}
inline float scale_of(uint16_t bf16) {
  const uint32_t bits = uint32_t{bf16} << 16;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

inline uint32_t field(uint64_t word, int shift, uint32_t mask) { return static_cast<uint32_t>(word >> shift) & mask; }
inline uint32_t gain_of(const View& m, uint64_t word) {
  return static_cast<uint32_t>(word) & ((1u << m.gain_bits) - 1);
}
inline uint64_t glue_of(const View& m, uint64_t word) {
  return m.glue[field(word, m.gain_bits, (1u << kGlueBits) - 1)];
}
inline uint32_t layout_of(const View& m, uint64_t word) {
  return field(word, m.gain_bits + kGlueBits, (1u << kLayoutBits) - 1);
}
inline bool is_escape(const View& m, uint64_t word) { return layout_of(m, word) == kEscapeLayout; }
inline const Escape& escape_of(const View& m, uint64_t word) {
  return m.escapes[word >> (m.gain_bits + kGlueBits + kLayoutBits)];
}

// Position of octet k in its type's table.
inline uint32_t position_of(const View& m, uint64_t word, int k) {
  const FieldLayout& l = m.layouts[layout_of(m, word)];
  if (k == 2) return static_cast<uint32_t>(word >> l.shift[2]);
  return field(word, l.shift[k], (1u << l.width[k]) - 1);
}

// Table entry (type << entry_bits | j) of octet k.
inline uint32_t entry_of(const View& m, uint64_t word, uint64_t glue, int k) {
  return glue_type(glue, k) << m.entry_bits | position_of(m, word, k);
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
    for (int i = 0; i < 8; ++i) {
      const int32_t value = pattern_value(p[perm[i]]);
      u[8 * k + i] = (neg >> i & 1) ? -value : value;
    }
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

// A buffer of at least n floats owned by the calling thread, one per `slot` (0: trio order,
// 1: the eight-block GEMV's chunk order), valid until its next call with that slot. It lives in
// leech_pack.cpp so that the SIMD files instantiate no std:: container (docs/kernels.md).
float* thread_scratch(size_t n, int slot);

// The AVX-512 level's GEMV: the eight-block kernel, which gathers, where gathers are fast
// (cpu_gathers_fast), else the one-block kernel. Tests force each.
enum class WideGemv { Auto, On, Off };
void set_wide_gemv(WideGemv mode);
bool use_wide_gemv();
// Forces a mode for its lifetime, then returns to Auto (even when the code in between throws).
class WideGemvScope {
 public:
  explicit WideGemvScope(WideGemv mode);
  ~WideGemvScope();
  WideGemvScope(const WideGemvScope&) = delete;
  WideGemvScope& operator=(const WideGemvScope&) = delete;
};

// Row kernels per instruction set (scalar reference in octet_pack.cpp).
void decode_rows_scalar(const View& m, int64_t r0, int64_t r1, float* out);
void gemv_rows_scalar(const View& m, const float* x, int64_t r0, int64_t r1, float* y);
void decode_rows_avx2(const View& m, int64_t r0, int64_t r1, float* out);
void gemv_rows_avx2(const View& m, const float* x, int64_t r0, int64_t r1, float* y);
void decode_rows_avx512(const View& m, int64_t r0, int64_t r1, float* out);
void gemv_rows_avx512(const View& m, const float* x, int64_t r0, int64_t r1, float* y);
// Several tokens at once (PackedMatrix::gemm_rows): the one-block kernel decodes each block once
// for all of them. Built in the AVX2 file and used by the AVX-512 level too; the scalar
// reference calls gemv_rows_scalar per token.
void gemm_rows_scalar(const View& m, const float* x, int64_t ldx, int64_t tokens, int64_t r0, int64_t r1, float* y,
                      int64_t ldy);
void gemm_rows_avx2(const View& m, const float* x, int64_t ldx, int64_t tokens, int64_t r0, int64_t r1, float* y,
                    int64_t ldy);

}  // namespace llvq::kernels::octet
