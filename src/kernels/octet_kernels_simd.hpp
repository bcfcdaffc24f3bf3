// The SIMD row kernels of the octet word, written once over a per-ISA traits type. Included
// only by octet_kernels_avx2.cpp and octet_kernels_avx512.cpp, each of which defines
// LLVQ_OCTET_ISA_NS and its traits first; everything here has internal linkage.
//
// A block's 24 coordinates are built as int8 in one 256-bit register (trio order): three
// 8-byte pattern loads, one byte shuffle that applies the in-octet permutations of an even
// point, and a masked negation that applies the signs of an odd one. The traits supply what
// differs per ISA: the masked negation (one AVX-512BW instruction; AVX2 expands the mask),
// and the int8 → float work of the GEMV and of the decode.
#pragma once

#include <immintrin.h>

#include <cstring>
#include <vector>

#include "kernels/octet_word.hpp"

namespace llvq::kernels::octet {
namespace {

inline int64_t load64(const void* p) {
  int64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Octet 1 sits in bytes 8..15 of the 128-bit lane it shares with octet 0: its shuffle indices
// are offset by 8.
inline constexpr int64_t kSecondOctet = 0x0808080808080808;

// The block's coordinates in trio order (bytes 0..23; bytes 24..31 are not used) and, when
// kNorm, |v|² in *norm.
template <class T, bool kNorm>
inline __m256i block_bytes(const View& m, uint64_t word, uint32_t* norm) {
  if (__builtin_expect(is_escape(m, word), 0)) {
    const Escape& e = escape_of(m, word);
    *norm = e.norm;
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&e));
  }
  const uint64_t glue = glue_of(m, word);
  const uint32_t e0 = entry_of(m, word, glue, 0), e1 = entry_of(m, word, glue, 1), e2 = entry_of(m, word, glue, 2);
  if (kNorm) *norm = m.norms[e0] + m.norms[e1] + m.norms[e2];
  const __m256i pattern = _mm256_setr_epi64x(load64(m.patterns + 8 * uint64_t{e0}), load64(m.patterns + 8 * uint64_t{e1}),
                                             load64(m.patterns + 8 * uint64_t{e2}), 0);
  const __m256i shuffle =
      _mm256_setr_epi64x(load64(m.perms + 8 * ((glue >> kPermShift) & 0xFF)),
                         load64(m.perms + 8 * ((glue >> (kPermShift + 8)) & 0xFF)) | kSecondOctet,
                         load64(m.perms + 8 * ((glue >> (kPermShift + 16)) & 0xFF)), 0);
  return T::negate(_mm256_shuffle_epi8(pattern, shuffle), static_cast<uint32_t>(glue >> kSignShift) & 0xFFFFFF);
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

template <class T, bool kShapeGain>
void gemv_rows_body(const View& m, const float* x, int64_t r0, int64_t r1, float* y) {
  const float* xt = trio_order(m, x);
  for (int64_t r = r0; r < r1; ++r) {
    const uint64_t* words = m.words + r * m.blocks;
    const float* scales = m.scales + r * m.groups;
    typename T::Acc acc = T::zero();
    for (int64_t g = 0, j = 0; g < m.groups; ++g) {
      const float scale = scales[g];
      const float ball_factor = scale * m.gemv_factor[0];
      for (const int64_t end = j + m.blocks_per_group; j < end; ++j) {
        uint32_t norm = 0;
        const __m256i v = block_bytes<T, kShapeGain>(m, words[j], &norm);
        const float f = kShapeGain ? gemv_factor(m, words[j], norm, scale) : ball_factor;
        T::accumulate(acc, v, f, xt + kDim * j);
      }
    }
    y[r - r0] = T::sum(acc);
  }
}

template <class T>
void decode_rows_body(const View& m, int64_t r0, int64_t r1, float* out) {
  const Natural natural(m);
  for (int64_t r = r0; r < r1; ++r) {
    const uint64_t* words = m.words + r * m.blocks;
    const float* scales = m.scales + r * m.groups;
    for (int64_t g = 0, j = 0; g < m.groups; ++g)
      for (const int64_t end = j + m.blocks_per_group; j < end; ++j, out += kDim) {
        uint32_t norm = 0;
        const __m256i v = block_bytes<T, true>(m, words[j], &norm);
        T::store(natural(v), block_factor(m, words[j], norm, scales[g]), out);
      }
  }
}

template <class T>
void gemv_rows_dispatch(const View& m, const float* x, int64_t r0, int64_t r1, float* y) {
  if (m.kind == Kind::ShapeGain)
    gemv_rows_body<T, true>(m, x, r0, r1, y);
  else
    gemv_rows_body<T, false>(m, x, r0, r1, y);
}

}  // namespace
}  // namespace llvq::kernels::octet
