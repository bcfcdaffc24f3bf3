// The SIMD row kernels of the octet word, written once over a per-ISA traits type. Included
// only by octet_kernels_avx2.cpp and octet_kernels_avx512.cpp, each of which defines
// LLVQ_OCTET_ISA_NS and its traits first; everything here has internal linkage.
//
// The decode builds a block's 24 coordinates as int8 in one 256-bit register (trio order):
// three 8-byte pattern loads, one byte shuffle that applies the in-octet permutations of an
// even point, and a masked negation that applies the signs of an odd one. The traits supply
// what differs per ISA: the masked negation (one AVX-512BW instruction; AVX2 expands the mask)
// and the int8 → float work. The one-block GEMV works octet by octet with AVX2 instructions
// only; the AVX2 file builds it, and the AVX-512 level calls that build wherever its own
// eight-block GEMV does not run (CPUs whose gathers are slow, groups not a multiple of 8).
#pragma once

#include <immintrin.h>

#include <cstring>
#include <stdexcept>
#include <type_traits>

#include "kernels/octet_word.hpp"
#include "kernels/simd_sum.hpp"
#include "kernels/token_chunks.hpp"

namespace llvq::kernels::octet {
namespace {

// The block's three octets as 8-byte groups (the low 8 bytes of each register are used).
struct OctetBytes {
  __m128i q[3];
  explicit OctetBytes(__m256i v)
      : q{_mm256_castsi256_si128(v), _mm_unpackhi_epi64(_mm256_castsi256_si128(v), _mm256_castsi256_si128(v)),
          _mm256_extracti128_si256(v, 1)} {}
};

// Octet 1 sits in bytes 8..15 of the 128-bit lane it shares with octet 0: its shuffle indices
// are offset by 8.
inline constexpr int64_t kSecondOctet = 0x0808080808080808;

// The word's fields for G gain bits: the fixed ones at compile-time shifts; the octets'
// positions through the word's field layout (a row of View::layouts). kLead: the bits below
// the word in the value read (0: a word from word_at; 64 − 8W: its 8-byte load, word_end).
template <int G, int kLead = 0>
struct Fields {
  static constexpr int kLayoutShift = kLead + G + kGlueBits;
  static constexpr int kShift0 = kLayoutShift + kLayoutBits;  // j0, or an escape's index

  static bool matches(const View& m) {
    if (m.gain_bits != G || m.entry_bits != kEntryBits || (kLead != 0 && kLead != word_lead(m))) return false;
    for (uint32_t s = 0; s < kLayouts; ++s)
      if (m.layouts[s].shift[0] != kShift0 - kLead) return false;
    return true;
  }
  static uint32_t gain(uint64_t word) { return static_cast<uint32_t>(word >> kLead) & ((1u << G) - 1); }
  // The block's glue index (t | Golay message << 1), into View::glue and View::glue_lanes.
  static uint32_t glue_index(uint64_t word) {
    return static_cast<uint32_t>(word >> (kLead + G)) & ((1u << kGlueBits) - 1);
  }
  // The byte offset of the block's line in View::glue_lanes (64 bytes a line): one shift and one
  // mask, so that every read of the line is a memory operand off the arena's register.
  static_assert(sizeof(GlueLanes) == 64);
  static uint32_t glue_offset(uint64_t word) {
    constexpr int kShift = kLead + G;  // the glue field's first bit
    uint64_t at;
    if constexpr (kShift >= 6) {
      at = word >> (kShift - 6);
    } else {
      at = word << (6 - kShift);
    }
    return static_cast<uint32_t>(at) & (((1u << kGlueBits) - 1) << 6);
  }
  static uint32_t layout(uint64_t word) {
    return static_cast<uint32_t>(word >> kLayoutShift) & ((1u << kLayoutBits) - 1);
  }
  // The layout's byte offset in View::layouts (16 bytes a row), escapes at kEscapeOffset.
  static_assert(sizeof(FieldLayout) == 16 && kLayoutShift >= 4);
  static constexpr uint32_t kEscapeOffset = kEscapeLayout << 4;
  static uint32_t layout_offset(uint64_t word) {
    return static_cast<uint32_t>(word >> (kLayoutShift - 4)) & (((1u << kLayoutBits) - 1) << 4);
  }
  static uint32_t escape_index(uint64_t word) { return static_cast<uint32_t>(word >> kShift0); }
  // The three positions from the loaded word (kLead = its lead) and the layout's packed row: one
  // load, then BMI2 bzhi and shrx (single instructions on every CPU that has them, unlike
  // pdep / pext).
  static void positions(uint64_t word, uint64_t packed, uint32_t* j) {
    j[0] = static_cast<uint32_t>(_bzhi_u64(word >> kShift0, static_cast<uint32_t>(packed)));
    j[1] = static_cast<uint32_t>(_bzhi_u64(word >> (packed >> 8 & 63), static_cast<uint32_t>(packed >> 16)));
    j[2] = static_cast<uint32_t>(word >> (packed >> 24 & 63));
  }
};

// The stored words, W bytes each (OctetTables::word_bytes), as compile-time constants.
template <int W>
struct Words {
  static constexpr int kLead = 64 - 8 * W;  // the bits below the word in its 8-byte load
  static bool matches(const View& m) { return m.word_bytes == W; }
  // Word j of the row whose first word ends at `end` (word_end), as loaded: kLead bits of the
  // word before it below.
  static uint64_t loaded(const uint8_t* end, int64_t j) { return static_cast<uint64_t>(load64(end + W * j)); }
};

// Stored pattern bytes (Arena::patterns) as their int8 values: the low 7 bits, sign-extended.
inline __m256i pattern_values(__m256i stored) {
  const __m256i sign = _mm256_set1_epi8(0x40);
  return _mm256_sub_epi8(_mm256_xor_si256(_mm256_and_si256(stored, _mm256_set1_epi8(0x7F)), sign), sign);
}

// The block's coordinates in trio order (bytes 0..23; bytes 24..31 are not used) and, when
// kNorm, |v|² in *norm, from its word as loaded (Words<W>::loaded).
template <class T, int G, bool kNorm, int W>
inline __m256i block_bytes(const View& m, uint64_t loaded, uint32_t* norm) {
  using F = Fields<G, Words<W>::kLead>;
  const uint32_t layout = F::layout(loaded);
  if (__builtin_expect(layout == kEscapeLayout, 0)) {
    const Escape& e = m.escapes[F::escape_index(loaded)];
    *norm = e.norm;
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&e));
  }
  uint32_t j[3];
  F::positions(loaded, m.layouts[layout].packed, j);
  const uint64_t glue = m.glue[F::glue_index(loaded)];
  const uint32_t e0 = glue_type(glue, 0) << kEntryBits | j[0], e1 = glue_type(glue, 1) << kEntryBits | j[1],
                 e2 = glue_type(glue, 2) << kEntryBits | j[2];
  if (kNorm) *norm = 8u * (uint32_t{m.norm8[e0]} + m.norm8[e1] + m.norm8[e2]);
  const __m256i pattern =
      pattern_values(_mm256_setr_epi64x(load64(m.patterns + 8 * uint64_t{e0}), load64(m.patterns + 8 * uint64_t{e1}),
                                        load64(m.patterns + 8 * uint64_t{e2}), 0));
  const __m256i shuffle =
      _mm256_setr_epi64x(load64(m.perms + 8 * glue_perm(glue, 0)), load64(m.perms + 8 * glue_perm(glue, 1)) | kSecondOctet,
                         load64(m.perms + 8 * glue_perm(glue, 2)), 0);
  return T::negate(_mm256_shuffle_epi8(pattern, shuffle), glue_sign(glue));
}

// Trio order → natural order: a byte shuffle within each 128-bit lane plus one of the
// lane-swapped register (each zeroes the bytes the other supplies).
struct Natural {
  __m256i within, across;
  explicit Natural(const View& m)
      : within(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(m.natural_ctl))),
        across(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(m.natural_ctl + 32))) {}
  __m256i operator()(__m256i v) const {
    const __m256i swapped = _mm256_permute4x64_epi64(v, 0x4E);
    return _mm256_or_si256(_mm256_shuffle_epi8(v, within), _mm256_shuffle_epi8(swapped, across));
  }
};

// The inputs x_t = x + t·ldx in trio order, block by block, the tokens' 24 entries of a block
// side by side (so that the batched GEMV reads x as one stream: with the tokens 16 KiB apart, 8
// tokens ran 13–21% slower) — the GEMV then never permutes the decoded weights.
inline const float* trio_order(const View& m, const float* x, int64_t ldx, int tokens) {
  float* xt = thread_scratch(static_cast<size_t>(kDim * m.blocks * tokens), 0);
  for (int64_t b = 0; b < m.blocks; ++b)
    for (int t = 0; t < tokens; ++t)
      for (int s = 0; s < kDim; ++s) xt[(b * tokens + t) * kDim + s] = x[t * ldx + kDim * b + m.trio[s]];
  return xt;
}

// The GEMV factor of a block (gemv_factor of octet_word.hpp, with the gain field's width
// known at compile time); the ball's is the same for every block of a scale group.
template <int G, bool kShapeGain>
inline float block_gemv_factor(const View& m, uint64_t word, uint32_t norm, float scale) {
  if (!kShapeGain) return scale * m.gemv_factor[0];
  return scale * m.gemv_factor[norm >> (4 - G) | (static_cast<uint32_t>(word) & ((1u << G) - 1))];
}

// Octet k of a block as 8 floats: its 8-byte pattern, permuted (even points) and signed (odd
// points) by the controls in the block's glue line, then widened. A shape–gain code's pattern
// carries its norm/8 in the bytes' top bits (Arena::patterns): they are added to *norm8 and
// shifted out, so the octet comes out doubled (2·p_i).
template <bool kShapeGain>
inline __m256 octet_floats(const Arena* t, uint32_t entry, const GlueLanes& glue, int k, uint32_t* norm8) {
  __m128i p = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(t->patterns[entry]));
  if (kShapeGain) {
    *norm8 += static_cast<uint32_t>(_mm_movemask_epi8(p));
    p = _mm_add_epi8(p, p);
  }
  const __m128i shuffle = _mm_loadu_si128(reinterpret_cast<const __m128i*>(glue.shuffle + 8 * k));
  const __m128i sign = _mm_loadu_si128(reinterpret_cast<const __m128i*>(glue.sign + 8 * k));
  const __m128i octet = _mm_sign_epi8(_mm_shuffle_epi8(p, shuffle), sign);
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(octet));
}

// Σ over the 24 coordinates of v ⊙ x, as 8 partial sums (x in trio order).
inline __m256 block_products(__m256i v, const float* x) {
  const OctetBytes bytes(v);
  __m256 d = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes.q[0])), _mm256_loadu_ps(x));
  d = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes.q[1])), _mm256_loadu_ps(x + 8), d);
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes.q[2])), _mm256_loadu_ps(x + 16), d);
}

// The GEMV one block at a time, with the unpacked glue (GlueLanes): per block a handful of
// scalar additions and loads, then six vector instructions per octet (~58 instructions per
// llvq-sg block, against ~95 when the glue's fields were extracted and the block assembled in
// one register). The block factor of a shape–gain code (level/|v|) multiplies each block's
// sum; the scale (and the ball's 1/s) once per scale group. With kTokens inputs the block is
// decoded once and multiplied with each: four vector instructions per block and token more,
// each token's arithmetic that of the one-token kernel (so the results are bit-identical).
template <int G, bool kShapeGain, int W, int kTokens>
void gemv_rows_body(const View& m, const float* x, int64_t ldx, int64_t r0, int64_t r1, float* y, int64_t ldy) {
  using F = Fields<G, Words<W>::kLead>;  // fields read from the loaded bytes: no shift per word
  if (!F::matches(m) || !Words<W>::matches(m)) throw std::logic_error("octet kernels: field layout mismatch");
  const float* xt = trio_order(m, x, ldx, kTokens);
  // Applied per scale group with the scale: the ball's 1/s; for a shape–gain code ½, since
  // octet_floats doubles its blocks (exact).
  const float group_unit = kShapeGain ? 0.5f : m.gemv_factor[0];
  const Arena* t = m.arena;  // every table from one register
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = word_end(m, r * m.blocks);
    const uint16_t* scales = m.scales + r * m.groups;
    __m256 total[kTokens];
    for (__m256& v : total) v = _mm256_setzero_ps();
    for (int64_t g = 0, j = 0; g < m.groups; ++g) {
      __m256 acc[kTokens];
      for (__m256& v : acc) v = _mm256_setzero_ps();
      // Unrolled four times: llvq-ss 12% faster (2.63 → 2.35 ms per 4096 × 4104 product, AVX2),
      // llvq-sg unchanged; 2 and 8 measured the same as 4.
#pragma GCC unroll 4
      for (const int64_t end = j + m.blocks_per_group; j < end; ++j) {
        const uint64_t w = Words<W>::loaded(row, j);
        const float* xb = xt + kDim * kTokens * j;  // the block's entries of every token
        // The glue kWordsAhead blocks ahead, so its (L2) latency is off the block's critical path:
        // 14% faster; prefetching the patterns as well (the glue is needed for their address) cost
        // more instructions than it saved.
        const uint64_t ahead = Words<W>::loaded(row, j + kWordsAhead);  // the padding covers the last row
        const char* glue_lines = reinterpret_cast<const char*>(t->glue_lanes);
        _mm_prefetch(glue_lines + F::glue_offset(ahead), _MM_HINT_T0);
        const uint32_t layout = F::layout_offset(w);
        if (__builtin_expect(layout == F::kEscapeOffset, 0)) {
          const Escape& e = m.escapes[F::escape_index(w)];
          const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&e));
          // The ball's factor multiplies the whole group below; a shape–gain escape's is doubled,
          // as the code's table blocks are (octet_floats).
          const float f = kShapeGain ? block_gemv_factor<G, true>(m, w >> Words<W>::kLead, e.norm, 2.0f) : 1.0f;
          for (int k = 0; k < kTokens; ++k)
            acc[k] = _mm256_fmadd_ps(_mm256_set1_ps(f), block_products(v, xb + k * kDim), acc[k]);
          continue;
        }
        const auto* layout_row =
            reinterpret_cast<const FieldLayout*>(reinterpret_cast<const char*>(t->layouts) + layout);
        uint32_t j[3];
        F::positions(w, layout_row->packed, j);
        const auto& glue = *reinterpret_cast<const GlueLanes*>(glue_lines + F::glue_offset(w));
        const uint32_t e0 = glue.base01[0] + j[0], e1 = glue.base01[1] + j[1], e2 = glue.base2 + j[2];
        uint32_t norm8 = 0;
        const __m256 o0 = octet_floats<kShapeGain>(t, e0, glue, 0, &norm8),
                     o1 = octet_floats<kShapeGain>(t, e1, glue, 1, &norm8),
                     o2 = octet_floats<kShapeGain>(t, e2, glue, 2, &norm8);
        __m256 factor = _mm256_setzero_ps();
        if (kShapeGain) factor = _mm256_broadcast_ss(t->gemv_factor + ((8u * norm8) >> (4 - G) | F::gain(w)));
        for (int k = 0; k < kTokens; ++k) {
          const float* xk = xb + k * kDim;
          __m256 d = _mm256_mul_ps(o0, _mm256_loadu_ps(xk));
          d = _mm256_fmadd_ps(o1, _mm256_loadu_ps(xk + 8), d);
          d = _mm256_fmadd_ps(o2, _mm256_loadu_ps(xk + 16), d);
          acc[k] = kShapeGain ? _mm256_fmadd_ps(factor, d, acc[k]) : _mm256_add_ps(acc[k], d);
        }
      }
      const __m256 group_factor = _mm256_set1_ps(scale_of(scales[g]) * group_unit);
      for (int k = 0; k < kTokens; ++k) total[k] = _mm256_fmadd_ps(group_factor, acc[k], total[k]);
    }
    for (int k = 0; k < kTokens; ++k) y[k * ldy + r - r0] = sum8(total[k]);
  }
}

template <class T, int G, int W>
void decode_rows_body(const View& m, int64_t r0, int64_t r1, float* out) {
  if (!Fields<G>::matches(m) || !Words<W>::matches(m)) throw std::logic_error("octet kernels: field layout mismatch");
  const Natural natural(m);
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = word_end(m, r * m.blocks);
    const uint16_t* scales = m.scales + r * m.groups;
    for (int64_t g = 0, j = 0; g < m.groups; ++g)
      for (const int64_t end = j + m.blocks_per_group; j < end; ++j, out += kDim) {
        const uint64_t loaded = Words<W>::loaded(row, j);
        uint32_t norm = 0;
        const __m256i v = block_bytes<T, G, true, W>(m, loaded, &norm);
        T::store(natural(v), block_factor(m, loaded >> Words<W>::kLead, norm, scale_of(scales[g])), out);
      }
  }
}

// Calls f(std::integral_constant<int, G>{}, std::bool_constant<shape–gain>{}) for the view's
// gain bits (0 to 4; kMaxGains = 16): the instantiation whose field layout is compile-time.
template <class F>
void with_layout(const View& m, F&& f) {
  const bool sg = m.kind == Kind::ShapeGain;
  switch (m.gain_bits) {
    case 0: return sg ? f(std::integral_constant<int, 0>{}, std::true_type{}) : f(std::integral_constant<int, 0>{}, std::false_type{});
    case 1: return f(std::integral_constant<int, 1>{}, std::true_type{});
    case 2: return f(std::integral_constant<int, 2>{}, std::true_type{});
    case 3: return f(std::integral_constant<int, 3>{}, std::true_type{});
    default: return f(std::integral_constant<int, 4>{}, std::true_type{});
  }
}

// with_layout, plus std::integral_constant<int, W>{} for the stored word's bytes (7 or 8).
template <class F>
void with_words(const View& m, F&& f) {
  with_layout(m, [&](auto g, auto sg) {
    if (m.word_bytes == 7) return f(g, sg, std::integral_constant<int, 7>{});
    return f(g, sg, std::integral_constant<int, 8>{});
  });
}

inline void gemv_rows_dispatch(const View& m, const float* x, int64_t r0, int64_t r1, float* y) {
  with_words(m, [&](auto g, auto sg, auto w) { gemv_rows_body<g(), sg(), w(), 1>(m, x, 0, r0, r1, y, 0); });
}

// Several tokens: chunks of 8, 4, 2 and 1, each decoding the rows' blocks once.
inline void gemm_rows_dispatch(const View& m, const float* x, int64_t ldx, int64_t tokens, int64_t r0, int64_t r1,
                               float* y, int64_t ldy) {
  with_words(m, [&](auto g, auto sg, auto w) {
    for_token_chunks(tokens, [&](auto chunk, int64_t t) {
      gemv_rows_body<g(), sg(), w(), chunk()>(m, x + t * ldx, ldx, r0, r1, y + t * ldy, ldy);
    });
  });
}

template <class T>
void decode_rows_dispatch(const View& m, int64_t r0, int64_t r1, float* out) {
  with_words(m, [&](auto g, auto, auto w) { decode_rows_body<T, g(), w()>(m, r0, r1, out); });
}

}  // namespace
}  // namespace llvq::kernels::octet
