// The SIMD row kernels of the octet word, written once over a per-ISA traits type. Included
// only by octet_kernels_avx2.cpp and octet_kernels_avx512.cpp, each of which defines
// LLVQ_OCTET_ISA_NS and its traits first; everything here has internal linkage.
//
// The decode builds a block's 24 coordinates as int8 in one 256-bit register (trio order):
// three 8-byte pattern loads, one byte shuffle that applies the in-octet permutations of an
// even point, and a masked negation that applies the signs of an odd one. The traits supply
// what differs per ISA: the masked negation (one AVX-512BW instruction; AVX2 expands the mask)
// and the int8 → float work. The one-block GEMV works octet by octet with AVX2 instructions
// only, the same in both files (AVX-512 runs its own eight-block GEMV where it can).
#pragma once

#include <immintrin.h>

#include <cstring>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "kernels/octet_word.hpp"

namespace llvq::kernels::octet {
namespace {

inline int64_t load64(const void* p) {
  int64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Sum of the 8 lanes.
inline float sum8(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
}

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

// The word's field layout for G gain bits as compile-time constants (the same widths as
// OctetTables::build_layout, checked at dispatch), so every shift and mask is an immediate.
template <int G>
struct Fields {
  static constexpr int kTotal = 64 - G - kGlueBits;
  static constexpr int kBits0 = (kTotal + 2) / 3;
  static constexpr int kBits1 = (kTotal - kBits0 + 1) / 2;
  static constexpr int kBits2 = kTotal - kBits0 - kBits1;
  static constexpr int kShift0 = G + kGlueBits, kShift1 = kShift0 + kBits0, kShift2 = kShift1 + kBits1;
  static constexpr uint32_t kMark = (1u << kBits0) - 1;

  static bool matches(const View& m) {
    return m.gain_bits == G && m.entry_bits == kBits0 && m.j_shift[0] == kShift0 && m.j_shift[1] == kShift1 &&
           m.j_shift[2] == kShift2 && m.j_mask[1] == (1u << kBits1) - 1 && m.j_mask[2] == (1u << kBits2) - 1;
  }
  // The block's glue index (t | Golay message << 1), into View::glue and View::glue_lanes.
  static uint32_t glue_index(uint64_t word) { return static_cast<uint32_t>(word >> G) & ((1u << kGlueBits) - 1); }
  template <int K>
  static uint32_t entry(uint64_t word, uint64_t glue) {
    constexpr int kShift = K == 0 ? kShift0 : K == 1 ? kShift1 : kShift2;
    const uint32_t base = glue_type(glue, K) << kBits0;
    if (K == 2) return base | static_cast<uint32_t>(word >> kShift);  // the top field
    constexpr int kBits = K == 0 ? kBits0 : kBits1;
    return base | (static_cast<uint32_t>(word >> kShift) & ((1u << kBits) - 1));
  }
};

// The block's coordinates in trio order (bytes 0..23; bytes 24..31 are not used) and, when
// kNorm, |v|² in *norm.
template <class T, int G, bool kNorm>
inline __m256i block_bytes(const View& m, uint64_t word, uint32_t* norm) {
  using F = Fields<G>;
  if (__builtin_expect((static_cast<uint32_t>(word >> F::kShift0) & F::kMark) == F::kMark, 0)) {
    const Escape& e = m.escapes[word >> F::kShift1];
    *norm = e.norm;
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&e));
  }
  const uint64_t glue = m.glue[F::glue_index(word)];
  const uint32_t e0 = F::template entry<0>(word, glue), e1 = F::template entry<1>(word, glue),
                 e2 = F::template entry<2>(word, glue);
  if (kNorm) *norm = 8u * (uint32_t{m.norm8[e0]} + m.norm8[e1] + m.norm8[e2]);
  const __m256i pattern = _mm256_setr_epi64x(load64(m.patterns + 8 * uint64_t{e0}), load64(m.patterns + 8 * uint64_t{e1}),
                                             load64(m.patterns + 8 * uint64_t{e2}), 0);
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

// x in trio order, block by block (the GEMV then never permutes the decoded weights).
inline const float* trio_order(const View& m, const float* x) {
  static thread_local std::vector<float> xt;
  xt.resize(static_cast<size_t>(kDim * m.blocks));
  for (int64_t b = 0; b < m.blocks; ++b)
    for (int s = 0; s < kDim; ++s) xt[static_cast<size_t>(kDim * b + s)] = x[kDim * b + m.trio[s]];
  return xt.data();
}

// The GEMV factor of a block (gemv_factor of octet_word.hpp, with the gain field's width
// known at compile time); the ball's is the same for every block of a scale group.
template <int G, bool kShapeGain>
inline float block_gemv_factor(const View& m, uint64_t word, uint32_t norm, float scale) {
  if (!kShapeGain) return scale * m.gemv_factor[0];
  return scale * m.gemv_factor[norm >> (4 - G) | (static_cast<uint32_t>(word) & ((1u << G) - 1))];
}

// Octet k of a block as 8 floats: the pattern's 8 bytes, the permutation (one byte shuffle)
// and the signs (one vpsignb), both from the block's control row, widened.
inline __m256 octet_floats(const int8_t* patterns, const int8_t* ctl_rows, uint32_t entry, uint32_t ctl) {
  const int8_t* row = ctl_rows + ctl;
  __m128i p = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(patterns + 8 * uint64_t{entry}));
  p = _mm_shuffle_epi8(p, _mm_loadu_si128(reinterpret_cast<const __m128i*>(row)));
  p = _mm_sign_epi8(p, _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 8)));
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(p));
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
// sum; the scale (and the ball's 1/s) once per scale group.
template <int G, bool kShapeGain>
void gemv_rows_body(const View& m, const float* x, int64_t r0, int64_t r1, float* y) {
  using F = Fields<G>;
  if (!F::matches(m)) throw std::logic_error("octet kernels: field layout mismatch");
  const float* xt = trio_order(m, x);
  const float ball_factor = kShapeGain ? 1.0f : m.gemv_factor[0];
  // The tables in locals: the compiler cannot keep View's fields in registers across the loop.
  const int8_t *patterns = m.patterns, *ctl_rows = m.octet_ctl;
  const uint8_t* norm8 = m.norm8;
  const GlueLanes* lanes = m.glue_lanes;
  const float* factors = m.gemv_factor;
  for (int64_t r = r0; r < r1; ++r) {
    const uint64_t* words = m.words + r * m.blocks;
    const float* scales = m.scales + r * m.groups;
    __m256 total = _mm256_setzero_ps();
    for (int64_t g = 0, j = 0; g < m.groups; ++g) {
      __m256 acc = _mm256_setzero_ps();
      // Unrolled four times: llvq-ss 12% faster (2.63 → 2.35 ms per 4096 × 4104 product, AVX2),
      // llvq-sg unchanged; 2 and 8 measured the same as 4.
#pragma GCC unroll 4
      for (const int64_t end = j + m.blocks_per_group; j < end; ++j) {
        const uint64_t w = words[j];
        const float* xb = xt + kDim * j;
        // The glue kWordsAhead blocks ahead, so its (L2) latency is off the block's critical path:
        // 14% faster; prefetching the patterns as well (the glue is needed for their address) cost
        // more instructions than it saved.
        const uint64_t ahead = words[j + kWordsAhead];  // the padding covers the last row
        _mm_prefetch(reinterpret_cast<const char*>(lanes + F::glue_index(ahead)), _MM_HINT_T0);
        const uint32_t j0 = static_cast<uint32_t>(w >> F::kShift0) & F::kMark;
        if (__builtin_expect(j0 == F::kMark, 0)) {
          const Escape& e = m.escapes[w >> F::kShift1];
          const __m256 d = block_products(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(&e)), xb);
          // The ball's factor multiplies the whole group below.
          acc = _mm256_fmadd_ps(_mm256_set1_ps(kShapeGain ? block_gemv_factor<G, true>(m, w, e.norm, 1.0f) : 1.0f), d, acc);
          continue;
        }
        const GlueLanes& glue = lanes[F::glue_index(w)];
        const uint32_t e0 = glue.entry_base[0] + j0;
        const uint32_t e1 = glue.entry_base[1] + (static_cast<uint32_t>(w >> F::kShift1) & ((1u << F::kBits1) - 1));
        const uint32_t e2 = glue.entry_base[2] + static_cast<uint32_t>(w >> F::kShift2);
        __m256 d = _mm256_mul_ps(octet_floats(patterns, ctl_rows, e0, glue.ctl[0]), _mm256_loadu_ps(xb));
        d = _mm256_fmadd_ps(octet_floats(patterns, ctl_rows, e1, glue.ctl[1]), _mm256_loadu_ps(xb + 8), d);
        d = _mm256_fmadd_ps(octet_floats(patterns, ctl_rows, e2, glue.ctl[2]), _mm256_loadu_ps(xb + 16), d);
        if (kShapeGain) {
          const uint32_t norm = 8u * (uint32_t{norm8[e0]} + norm8[e1] + norm8[e2]);
          const uint32_t index = norm >> (4 - G) | (static_cast<uint32_t>(w) & ((1u << G) - 1));
          acc = _mm256_fmadd_ps(_mm256_broadcast_ss(factors + index), d, acc);
        } else {
          acc = _mm256_add_ps(acc, d);
        }
      }
      total = _mm256_fmadd_ps(_mm256_set1_ps(scales[g] * ball_factor), acc, total);
    }
    y[r - r0] = sum8(total);
  }
}

template <class T, int G>
void decode_rows_body(const View& m, int64_t r0, int64_t r1, float* out) {
  if (!Fields<G>::matches(m)) throw std::logic_error("octet kernels: field layout mismatch");
  const Natural natural(m);
  for (int64_t r = r0; r < r1; ++r) {
    const uint64_t* words = m.words + r * m.blocks;
    const float* scales = m.scales + r * m.groups;
    for (int64_t g = 0, j = 0; g < m.groups; ++g)
      for (const int64_t end = j + m.blocks_per_group; j < end; ++j, out += kDim) {
        uint32_t norm = 0;
        const __m256i v = block_bytes<T, G, true>(m, words[j], &norm);
        T::store(natural(v), block_factor(m, words[j], norm, scales[g]), out);
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

inline void gemv_rows_dispatch(const View& m, const float* x, int64_t r0, int64_t r1, float* y) {
  with_layout(m, [&](auto g, auto sg) { gemv_rows_body<g(), sg()>(m, x, r0, r1, y); });
}

template <class T>
void decode_rows_dispatch(const View& m, int64_t r0, int64_t r1, float* out) {
  with_layout(m, [&](auto g, auto) { decode_rows_body<T, g()>(m, r0, r1, out); });
}

}  // namespace
}  // namespace llvq::kernels::octet
