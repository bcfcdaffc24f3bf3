// Per-block decode of the Leech-ball codes (llvq-sg, llvq-ss at 2 bpw, l24sq) from the "split
// word", the kernels' layout before the octet word (kernels/octet_word.hpp) replaced it on the
// CPU and then on the GPU; kept as the subject of `llvq bench leech-decode`'s per-stage profile.
// Plain functions over one flat POD table struct (no std containers, no exceptions, no 128-bit
// arithmetic), written to compile for host and device. docs/kernels-leech.md describes it.
//
// Two codes of a block:
//  - the minimal code: gain index g and the dense ball index of LeechBall (48 bits at 2 bpw);
//  - the split word (the kernel layout, 64 bits): every mixed-radix digit of the ball index in
//    its own bit field, so decoding needs shifts, masks and small tables but no division:
//      bits 0..9            class id (0 = the origin, 1.. = LeechBall class + 1)
//      next gain_bits       gain index g
//      then, at per-class shifts: odd class: Golay message (12 bits), one field per `on`
//      level; even class: free signs, codeword position, `on` levels, `off` levels.
//    leech_split / leech_join convert between the two (exact, both ways).
#pragma once

#include <stdint.h>

#include "kernels/host_device.hpp"
#include "llvq/leech.hpp"

// The functions below live in an inline namespace named per instruction set: a TU compiled
// with AVX2 / AVX-512 flags defines LLVQ_LEECH_ISA_NS before including this header, so its
// copies get their own symbols and never replace the portable ones at link time.
#ifndef LLVQ_LEECH_ISA_NS
#define LLVQ_LEECH_ISA_NS portable
#endif

#if !defined(__CUDA_ARCH__) && (defined(__BMI2__) || defined(__AVX2__))
#include <immintrin.h>
#endif

namespace llvq::kernels::leech {

using ::llvq::leech::kDim;
inline constexpr int kClassBits = 10;
inline constexpr int kMaxClasses = 1 << kClassBits;  // class ids, the origin's 0 included
inline constexpr int kMaxLevels = 6;  // arrangement levels per half (Λ24(16) needs 4)
inline constexpr int kMaxGains = 16;
inline constexpr int kMaxShells = 17;  // shells 0..16
inline constexpr uint32_t kAllSlots = 0xFFFFFF;
inline constexpr int kBinomColumn = 32;
inline constexpr int kHalf = 12;    // slots in the low half of a split combination
inline constexpr int kSplitsMax = 16;

// One arrangement (LeechBall::ArrangementInfo) with the bit field of each level's rank.
struct ArrangementTable {
  uint8_t levels;
  uint8_t fill;
  uint8_t value[kMaxLevels];
  uint8_t count[kMaxLevels];
  uint8_t shift[kMaxLevels];  // field position in the split word
  uint8_t bits[kMaxLevels];   // field width: ⌈log2 radix⌉
  uint8_t free[kMaxLevels];   // free slots before the level (the n of C(n, count))
  uint32_t radix[kMaxLevels];  // C(free, count) ≤ C(24, 12)
  uint64_t total;              // product of the radices
};

struct ClassTable {
  uint8_t odd;
  uint8_t shell;
  uint8_t sign_bits;
  uint8_t sign_shift;
  uint8_t minus_parity;
  uint8_t cw_bits;   // even: ⌈log2 codewords⌉; odd: 12 (the Golay message)
  uint8_t cw_shift;
  uint16_t cw_base;  // even: first entry of the codeword's weight in BlockTables::by_weight
  ArrangementTable on, off;
  // Only the conversions to and from the minimal code read these (kept last, away from the
  // fields every decode reads).
  uint64_t offset;   // ball index of the class's first point
  uint64_t end;      // one past its last point
  uint64_t codewords;
};

enum class Kind : int32_t { ShapeGain = 0, Ball = 1 };

struct BlockTables {
  Kind kind;
  int32_t gain_bits;
  int32_t num_classes;  // class ids 0..num_classes − 1 (0 = the origin)
  int32_t ball_bits;    // width of the minimal ball index
  int32_t max_parts;    // most PointMasks parts of any class (a fixed trip count for SIMD expansion)
  uint64_t ball_size;
  uint64_t min_index;   // smallest valid ball index (1 for shape–gain: the origin has no direction)
  double gain_level[kMaxGains];
  double sqrt_norm[kMaxShells];    // √(16·shell) (1 for shell 0, whose point is the origin)
  float gemv_factor[kMaxGains][kMaxShells];  // level[g]/√norm (ShapeGain), 1/s (Ball)
  double lattice_scale;            // s (Ball)
  uint32_t binom_column[kDim + 1][kBinomColumn];  // [j][e] = C(e, j), UINT32_MAX past e = 24
  // Split rank of a count-subset of n slots (see unrank_level): [n][count][j] = first rank
  // with j elements in the low half, UINT32_MAX past the largest j.
  uint32_t split_first[kDim + 1][kDim + 1][kSplitsMax];
  uint32_t half_binom[kHalf + 1][kHalf + 1];  // C(h, j)
  uint64_t half_recip[kHalf + 1][kHalf + 1];  // ⌈2^32 / C(h, j)⌉: r / C(h, j) = r·recip >> 32 for r < 2^22
  uint16_t colex_first[kHalf + 2];            // first entry of the j-subsets in colex12
  uint16_t colex12[1 << kHalf];               // subsets of 12 slots by size, each size in colex order
  uint32_t golay[4096];            // codeword of each message (systematic: message = bits 11..22)
  uint32_t by_weight[4096];        // codewords of weight 0, 8, 12, 16, 24 (golay::codewords_of_weight order)
  uint64_t class_end[kMaxClasses];  // cls[id].end, contiguous for the class search
  ClassTable cls[kMaxClasses];
};

inline namespace LLVQ_LEECH_ISA_NS {

// ------------------------------------------------------------------ bit helpers

LLVQ_HD inline int popcount32(uint32_t x) {
#ifdef __CUDA_ARCH__
  return __popc(x);
#else
  return __builtin_popcount(x);
#endif
}

LLVQ_HD inline int ctz32(uint32_t x) {
#ifdef __CUDA_ARCH__
  return __ffs(static_cast<int>(x)) - 1;
#else
  return __builtin_ctz(x);
#endif
}

LLVQ_HD inline uint32_t highest_bit32(uint32_t x) {
#ifdef __CUDA_ARCH__
  return 1u << (31 - __clz(static_cast<int>(x)));
#else
  return 1u << (31 - __builtin_clz(x));
#endif
}

// Deposits the low bits of src at the set positions of mask (BMI2 pdep).
LLVQ_HD inline uint32_t deposit32(uint32_t src, uint32_t mask) {
#if !defined(__CUDA_ARCH__) && defined(__BMI2__)
  return _pdep_u32(src, mask);
#else
  uint32_t out = 0;
  for (; mask; mask &= mask - 1, src >>= 1)
    if (src & 1) out |= mask & (0u - mask);
  return out;
#endif
}

LLVQ_HD inline uint64_t low_bits(uint64_t x, int bits) { return bits >= 64 ? x : x & ((uint64_t{1} << bits) - 1); }

// ------------------------------------------------------------------ split word fields

LLVQ_HD inline uint32_t class_of(uint64_t word) { return static_cast<uint32_t>(word & (kMaxClasses - 1)); }
LLVQ_HD inline uint32_t gain_of(const BlockTables& t, uint64_t word) {
  return static_cast<uint32_t>(low_bits(word >> kClassBits, t.gain_bits));
}

// Colex unrank of a `count`-subset of n compact positions 0..n−1 (rank < C(n, count)): the
// mask of the subset. Each element is the largest e with C(e, j) ≤ rank; C(e, j) grows with e,
// so e + 1 is the number of table entries ≤ rank, counted without branches (the column is
// padded with UINT32_MAX, and C(e, j) > rank for every e ≥ n).
// Number of entries ≤ rank among the first 16·pieces (pieces = 1 or 2) of a table.
template <int Pieces>
LLVQ_HD inline int entries_at_most(const uint32_t* column, uint32_t rank) {
#if !defined(__CUDA_ARCH__) && defined(__AVX512F__)
  const __m512i r = _mm512_set1_epi32(static_cast<int>(rank));
  uint32_t below = _mm512_cmple_epu32_mask(_mm512_loadu_si512(column), r);
  if (Pieces == 2) below |= static_cast<uint32_t>(_mm512_cmple_epu32_mask(_mm512_loadu_si512(column + 16), r)) << 16;
  return __builtin_popcount(below);
#elif !defined(__CUDA_ARCH__) && defined(__AVX2__)
  // Unsigned ≤ as a signed compare of both sides offset by 2^31.
  const __m256i bias = _mm256_set1_epi32(INT32_MIN);
  const __m256i r = _mm256_xor_si256(_mm256_set1_epi32(static_cast<int>(rank)), bias);
  uint32_t above = 0;
  for (int q = 0; q < 2 * Pieces; ++q) {
    const __m256i c = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(column + 8 * q)), bias);
    above |= static_cast<uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(c, r)))) << (8 * q);
  }
  return 16 * Pieces - __builtin_popcount(above);
#else
  int below = 0;
  for (int e = 0; e < 16 * Pieces; ++e) below += column[e] <= rank;
  return below;
#endif
}

LLVQ_HD inline uint32_t unrank_combination(const BlockTables& t, uint32_t rank, int count) {
  uint32_t chosen = 0;
  for (int j = count; j > 0; --j) {
    const int below = entries_at_most<2>(t.binom_column[j], rank);
    rank -= t.binom_column[j][below - 1];
    chosen |= 1u << (below - 1);
  }
  return chosen;
}

// Colex rank of a subset (compact mask): Σ_i C(s_i, i) over its elements s_1 < s_2 < ….
LLVQ_HD inline uint32_t colex_rank(const BlockTables& t, uint32_t chosen) {
  uint32_t rank = 0;
  for (int i = 1; chosen; chosen &= chosen - 1, ++i) rank += t.binom_column[i][ctz32(chosen)];
  return rank;
}

// The split word's own rank of a count-subset of n slots, made for a table decode: the slots
// split into a low half of h = min(n, 12) and a high part of n − h; subsets are ordered by the
// number j of elements in the low half, then by the colex rank of the high part, then by that
// of the low part: rank = split_first[n][count][j] + hi·C(h, j) + lo. Decoding is one count
// over ≤ 16 table entries, a multiply-shift division and two lookups in colex12.
LLVQ_HD inline uint32_t unrank_level(const BlockTables& t, uint32_t rank, int n, int count) {
  const int h = n < kHalf ? n : kHalf;
  const uint32_t* first = t.split_first[n][count];
  const int j = entries_at_most<1>(first, rank) - 1;
  const uint32_t r = rank - first[j];
  const uint32_t hi = static_cast<uint32_t>((uint64_t{r} * t.half_recip[h][j]) >> 32);
  const uint32_t lo = r - hi * t.half_binom[h][j];
  return t.colex12[t.colex_first[j] + lo] | static_cast<uint32_t>(t.colex12[t.colex_first[count - j] + hi]) << h;
}

// Inverse of unrank_level (compact mask → split rank).
LLVQ_HD inline uint32_t rank_level(const BlockTables& t, uint32_t chosen, int n, int count) {
  const int h = n < kHalf ? n : kHalf;
  const uint32_t low = chosen & ((1u << h) - 1);
  const int j = popcount32(low);
  return t.split_first[n][count][j] + colex_rank(t, chosen >> h) * t.half_binom[h][j] + colex_rank(t, low);
}

// A decoded point as masks: |v_i| = value[l] for i in mask[l] (the masks partition the 24
// positions), v_i < 0 for i in neg.
struct PointMasks {
  int parts;
  uint32_t mask[2 * kMaxLevels + 2];
  int32_t value[2 * kMaxLevels + 2];
  uint32_t neg;
};

// Splits `slots` among the arrangement's values (appended to p); returns the mask of the slots
// that received a value ≡ 3 mod 4 (odd classes) and, in *zero, those that received 0.
// ranks[l] is level l's split rank (Colex = false) or its colex rank (the minimal code).
template <bool Colex>
LLVQ_HD inline uint32_t place_levels(const BlockTables& t, const ArrangementTable& a, const uint32_t* ranks,
                                     uint32_t slots, PointMasks& p, uint32_t* zero) {
  uint32_t free = slots, three = 0;
  for (int l = 0; l < a.levels; ++l) {
    const uint32_t chosen =
        Colex ? unrank_combination(t, ranks[l], a.count[l]) : unrank_level(t, ranks[l], a.free[l], a.count[l]);
    const uint32_t mask = deposit32(chosen, free);
    p.mask[p.parts] = mask;
    p.value[p.parts++] = a.value[l];
    if (a.value[l] == 0) *zero |= mask;
    if ((a.value[l] & 3) == 3) three |= mask;
    free &= ~mask;
  }
  p.mask[p.parts] = free;
  p.value[p.parts++] = a.fill;
  if (a.fill == 0) *zero |= free;
  if ((a.fill & 3) == 3) three |= free;
  return three;
}

LLVQ_HD inline uint32_t place_arrangement(const BlockTables& t, const ArrangementTable& a, uint64_t word,
                                          uint32_t slots, PointMasks& p, uint32_t* zero) {
  uint32_t ranks[kMaxLevels];
  for (int l = 0; l < a.levels; ++l) ranks[l] = static_cast<uint32_t>(low_bits(word >> a.shift[l], a.bits[l]));
  return place_levels<false>(t, a, ranks, slots, p, zero);
}

// Stage 1 of the decode: the magnitudes (p.mask / p.value) and the codeword. *aux: odd class,
// the positions holding a value ≡ 3 mod 4; even class, the positions holding 0.
LLVQ_HD inline uint32_t decode_magnitudes(const BlockTables& t, const ClassTable& c, uint64_t word, PointMasks& p,
                                          uint32_t* aux) {
  const uint32_t cw = static_cast<uint32_t>(low_bits(word >> c.cw_shift, c.cw_bits));
  p.parts = 0;
  uint32_t zero = 0;
  if (c.odd) {
    *aux = place_arrangement(t, c.on, word, kAllSlots, p, &zero);
    return t.golay[cw];
  }
  const uint32_t codeword = t.by_weight[c.cw_base + cw];
  place_arrangement(t, c.on, word, codeword, p, &zero);
  place_arrangement(t, c.off, word, ~codeword & kAllSlots, p, &zero);
  *aux = zero;
  return codeword;
}

// Stage 2: the signs. Odd class: position i holds +value ≡ 3 mod 4 or −value ≡ 1 mod 4 when
// i is in the codeword, the negatives otherwise, so v_i < 0 exactly when "≡ 3" differs from
// "in the codeword". Even class: free sign bits over the codeword (its top position excepted,
// fixed by the parity of minus signs) and over the non-zero positions off it.
LLVQ_HD inline uint32_t sign_mask_of_bits(const ClassTable& c, uint32_t signs, uint32_t codeword, uint32_t aux) {
  if (c.odd) return (aux ^ codeword) & kAllSlots;
  const uint32_t on = codeword ? codeword & ~highest_bit32(codeword) : 0;
  const uint32_t sign_slots = on | (~codeword & kAllSlots & ~aux);
  uint32_t neg = deposit32(signs, sign_slots);
  if (codeword && (popcount32(neg & codeword) & 1) != c.minus_parity) neg |= highest_bit32(codeword);
  return neg;
}

LLVQ_HD inline uint32_t sign_mask(const ClassTable& c, uint64_t word, uint32_t codeword, uint32_t aux) {
  return sign_mask_of_bits(c, static_cast<uint32_t>(low_bits(word >> c.sign_shift, c.sign_bits)), codeword, aux);
}

// The point of a split word as masks (the origin: one part of value 0).
LLVQ_HD inline void decode_masks(const BlockTables& t, uint64_t word, PointMasks& p) {
  const uint32_t id = class_of(word);
  if (id == 0) {
    p.parts = 1;
    p.mask[0] = kAllSlots;
    p.value[0] = 0;
    p.neg = 0;
    return;
  }
  const ClassTable& c = t.cls[id];
  uint32_t aux = 0;
  const uint32_t codeword = decode_magnitudes(t, c, word, p, &aux);
  p.neg = sign_mask(c, word, codeword, aux);
}

// Stage 3 (scalar): the 24 integer coordinates.
LLVQ_HD inline void expand_point(const PointMasks& p, int32_t* v) {
  for (int k = 0; k < p.parts; ++k)
    for (uint32_t m = p.mask[k]; m; m &= m - 1) v[ctz32(m)] = p.value[k];
  for (uint32_t m = p.neg; m; m &= m - 1) v[ctz32(m)] = -v[ctz32(m)];
}

// The lattice point (integer coordinates √8·Λ24) of a split word.
LLVQ_HD inline void decode_point(const BlockTables& t, uint64_t word, int32_t* v) {
  PointMasks p;
  decode_masks(t, word, p);
  expand_point(p, v);
}

// Reconstruction factor f of a block, xhat_i = float(f·v_i) in double, the same arithmetic as
// Codec::decode_rows for shape–gain (σ·level/|v|); σ/s for the ball.
LLVQ_HD inline double block_factor(const BlockTables& t, uint64_t word, float scale) {
  if (t.kind == Kind::Ball) return static_cast<double>(scale) / t.lattice_scale;
  const double s = static_cast<double>(scale) * t.gain_level[gain_of(t, word)];
  return s / t.sqrt_norm[t.cls[class_of(word)].shell];
}

// The same factor in float for the fused GEMV: σ·(level[g]/|v|), one rounding more.
LLVQ_HD inline float gemv_factor(const BlockTables& t, uint64_t word, float scale) {
  return scale * t.gemv_factor[gain_of(t, word)][t.cls[class_of(word)].shell];
}

// Scalar reference decode of one block to floats.
LLVQ_HD inline void decode_block(const BlockTables& t, uint64_t word, float scale, float* out) {
  int32_t v[kDim];
  decode_point(t, word, v);
  const double f = block_factor(t, word, scale);
  for (int i = 0; i < kDim; ++i) out[i] = static_cast<float>(f * v[i]);
}

// Scalar reference ⟨decoded block, x⟩: f·Σ v_i x_i, the sum in float in index order.
LLVQ_HD inline float dot_block(const BlockTables& t, uint64_t word, float scale, const float* x) {
  int32_t v[kDim];
  decode_point(t, word, v);
  float s = 0;
  for (int i = 0; i < kDim; ++i) s += static_cast<float>(v[i]) * x[i];
  return gemv_factor(t, word, scale) * s;
}

// ------------------------------------------------------------------ minimal code ↔ split word

// Class id (1..) of a ball index ≥ 1: branch-free binary search over the class ends.
LLVQ_HD inline uint32_t find_class(const BlockTables& t, uint64_t index) {
  uint32_t lo = 1, n = static_cast<uint32_t>(t.num_classes) - 1;  // answer in [lo, lo + n)
  while (n > 1) {
    const uint32_t half = n / 2;
    lo = t.class_end[lo + half - 1] <= index ? lo + half : lo;
    n -= half;
  }
  return lo;
}

// Arrangement rank (mixed radix of colex ranks, LeechBall) → the levels' split-rank fields.
LLVQ_HD inline uint64_t split_arrangement(const BlockTables& t, const ArrangementTable& a, uint64_t rank) {
  uint64_t fields = 0;
  for (int l = 0; l < a.levels; ++l) {
    const auto colex = static_cast<uint32_t>(rank % a.radix[l]);
    rank /= a.radix[l];
    const uint32_t chosen = unrank_combination(t, colex, a.count[l]);
    fields |= static_cast<uint64_t>(rank_level(t, chosen, a.free[l], a.count[l])) << a.shift[l];
  }
  return fields;
}

LLVQ_HD inline uint64_t join_arrangement(const BlockTables& t, const ArrangementTable& a, uint64_t word) {
  uint64_t rank = 0;
  for (int l = a.levels - 1; l >= 0; --l) {
    const auto field = static_cast<uint32_t>(low_bits(word >> a.shift[l], a.bits[l]));
    rank = rank * a.radix[l] + colex_rank(t, unrank_level(t, field, a.free[l], a.count[l]));
  }
  return rank;
}

// Split word of (gain g, ball index) with 0 ≤ index < ball_size (the caller validates).
LLVQ_HD inline uint64_t leech_split(const BlockTables& t, uint32_t gain, uint64_t index) {
  const uint64_t head = static_cast<uint64_t>(gain) << kClassBits;
  if (index == 0) return head;
  const uint32_t id = find_class(t, index);
  const ClassTable& c = t.cls[id];
  const uint64_t in = index - c.offset;
  uint64_t word = head | id;
  if (c.odd) {
    word |= (in & 4095) << c.cw_shift;
    return word | split_arrangement(t, c.on, in >> 12);
  }
  word |= low_bits(in, c.sign_bits) << c.sign_shift;
  uint64_t rest = in >> c.sign_bits;
  word |= split_arrangement(t, c.off, rest % c.off.total);
  rest /= c.off.total;
  word |= split_arrangement(t, c.on, rest % c.on.total);
  return word | (rest / c.on.total) << c.cw_shift;
}

// Ball index of a split word (the inverse of leech_split).
LLVQ_HD inline uint64_t leech_join(const BlockTables& t, uint64_t word) {
  const uint32_t id = class_of(word);
  if (id == 0) return 0;
  const ClassTable& c = t.cls[id];
  const uint64_t cw = low_bits(word >> c.cw_shift, c.cw_bits);
  if (c.odd) return c.offset + cw + 4096 * join_arrangement(t, c.on, word);
  const uint64_t perm = join_arrangement(t, c.off, word) + c.off.total * (join_arrangement(t, c.on, word) + c.on.total * cw);
  return c.offset + low_bits(word >> c.sign_shift, c.sign_bits) + (perm << c.sign_bits);
}

// ------------------------------------------------------------------ direct decode of the minimal code

// The mixed-radix digits of a minimal ball index (the divisions of the minimal format).
struct MinimalDigits {
  uint32_t id;     // class id, 0 = the origin
  uint32_t cw;     // odd: Golay message; even: position among the codewords of the weight
  uint32_t signs;  // even: the free sign bits
  uint32_t on[kMaxLevels], off[kMaxLevels];  // colex rank of each arrangement level
};

LLVQ_HD inline void radix_digits(const ArrangementTable& a, uint64_t rank, uint32_t* digits) {
  for (int l = 0; l < a.levels; ++l) {
    digits[l] = static_cast<uint32_t>(rank % a.radix[l]);
    rank /= a.radix[l];
  }
}

// Stage 1 and 2 of the minimal decode: class lookup, then the radix split.
LLVQ_HD inline void minimal_digits(const BlockTables& t, uint64_t index, MinimalDigits& d) {
  d.id = index ? find_class(t, index) : 0;
  if (d.id == 0) return;
  const ClassTable& c = t.cls[d.id];
  const uint64_t in = index - c.offset;
  if (c.odd) {
    d.cw = static_cast<uint32_t>(in & 4095);
    radix_digits(c.on, in >> 12, d.on);
    return;
  }
  d.signs = static_cast<uint32_t>(low_bits(in, c.sign_bits));
  uint64_t rest = in >> c.sign_bits;
  radix_digits(c.off, rest % c.off.total, d.off);
  rest /= c.off.total;
  radix_digits(c.on, rest % c.on.total, d.on);
  d.cw = static_cast<uint32_t>(rest / c.on.total);
}

// Stage 3 and 4: the magnitudes by colex unranking (element by element), then the signs.
LLVQ_HD inline void minimal_masks(const BlockTables& t, const MinimalDigits& d, PointMasks& p) {
  if (d.id == 0) {
    p.parts = 1;
    p.mask[0] = kAllSlots;
    p.value[0] = 0;
    p.neg = 0;
    return;
  }
  const ClassTable& c = t.cls[d.id];
  p.parts = 0;
  uint32_t zero = 0;
  if (c.odd) {
    const uint32_t three = place_levels<true>(t, c.on, d.on, kAllSlots, p, &zero);
    p.neg = sign_mask_of_bits(c, 0, t.golay[d.cw], three);
    return;
  }
  const uint32_t codeword = t.by_weight[c.cw_base + d.cw];
  place_levels<true>(t, c.on, d.on, codeword, p, &zero);
  place_levels<true>(t, c.off, d.off, ~codeword & kAllSlots, p, &zero);
  p.neg = sign_mask_of_bits(c, d.signs, codeword, zero);
}

}  // namespace LLVQ_LEECH_ISA_NS
}  // namespace llvq::kernels::leech
