// AVX-512 octet-word kernels: the traits of the shared one-block body (octet_kernels_simd.hpp;
// the signs are one masked byte subtraction, 16 + 8 float lanes per block) and a GEMV of its
// own that gathers and pipelines eight blocks at a time.
#define LLVQ_OCTET_ISA_NS avx512
#include "kernels/octet_kernels_simd.hpp"

namespace llvq::kernels::octet {
namespace {

struct Avx512 {
  struct Acc {
    __m512 a;
    __m256 b;
  };
  static Acc zero() { return {_mm512_setzero_ps(), _mm256_setzero_ps()}; }

  static __m256i negate(__m256i v, uint32_t mask) {
    return _mm256_mask_sub_epi8(v, static_cast<__mmask32>(mask), _mm256_setzero_si256(), v);
  }

  static void accumulate(Acc& acc, __m256i v, float f, const float* x) {
    const __m512 a = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_castsi256_si128(v))), _mm512_loadu_ps(x));
    const __m256 b = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm256_extracti128_si256(v, 1))),
                                   _mm256_loadu_ps(x + 16));
    acc.a = _mm512_fmadd_ps(_mm512_set1_ps(f), a, acc.a);
    acc.b = _mm256_fmadd_ps(_mm256_set1_ps(f), b, acc.b);
  }

  static float sum(const Acc& acc) {
    return sum8(_mm256_add_ps(acc.b, _mm256_add_ps(_mm512_castps512_ps256(acc.a), _mm512_extractf32x8_ps(acc.a, 1))));
  }

  static void store(__m256i v, double f, float* out) {
    const __m512d vf = _mm512_set1_pd(f);
    const OctetBytes bytes(v);
    for (int q = 0; q < 3; ++q) {
      const __m512d d = _mm512_cvtepi32_pd(_mm256_cvtepi8_epi32(bytes.q[q]));
      _mm256_storeu_ps(out + 8 * q, _mm512_cvtpd_ps(_mm512_mul_pd(d, vf)));
    }
  }
};

// x for the 8-block path: chunk c (blocks 8c..8c+7), octet k, block b, slot i at
// 192c + 64k + 8b + i.
const float* chunk_order(const View& m, const float* x) {
  static thread_local std::vector<float> xc;
  const int64_t chunks = m.blocks / 8;
  xc.resize(static_cast<size_t>(192 * chunks));
  for (int64_t c = 0; c < chunks; ++c)
    for (int k = 0; k < 3; ++k)
      for (int b = 0; b < 8; ++b)
        for (int i = 0; i < 8; ++i)
          xc[static_cast<size_t>(192 * c + 64 * k + 8 * b + i)] = x[kDim * (8 * c + b) + m.trio[8 * k + i]];
  return xc.data();
}

// Eight blocks at once, octet by octet: one gather of the glue, then per octet one gather of
// the eight patterns and one of their permutations, a single 64-byte shuffle and masked
// negation; the block factors are gathered too, and enter after the products of each pair of
// blocks are summed. Chunks start at multiples of 8 blocks from each scale group's start; the
// group's last blocks and any chunk holding an escape go through the one-block path.
template <int G, bool kShapeGain>
void gemv_rows_wide(const View& m, const float* x, int64_t r0, int64_t r1, float* y) {
  using F = Fields<G>;
  if (!F::matches(m)) throw std::logic_error("octet kernels: field layout mismatch");
  const float* xt = trio_order(m, x);
  const float* xc = chunk_order(m, x);
  const __m512i second_octet = _mm512_set_epi64(kSecondOctet, 0, kSecondOctet, 0, kSecondOctet, 0, kSecondOctet, 0);
  __m512i spread[4];  // lanes of block 2c, then of block 2c + 1
  for (int c = 0; c < 4; ++c)
    spread[c] = _mm512_set_epi32(2 * c + 1, 2 * c + 1, 2 * c + 1, 2 * c + 1, 2 * c + 1, 2 * c + 1, 2 * c + 1, 2 * c + 1,
                                 2 * c, 2 * c, 2 * c, 2 * c, 2 * c, 2 * c, 2 * c, 2 * c);
  const auto* glue64 = reinterpret_cast<const long long*>(m.glue64);
  const auto* patterns = reinterpret_cast<const long long*>(m.patterns);
  const auto* perms = reinterpret_cast<const long long*>(m.perms);
  const __m512i squares = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 1, 4, 9, 16, 25, 36, 49, 64, 81, 100, 121,
                                                                  static_cast<char>(144), static_cast<char>(169),
                                                                  static_cast<char>(196), static_cast<char>(225)));
  struct Chunk {
    __m512i w, glue, pattern[3], perm[3];
    bool escape;
  };
  // Stage 1 of a chunk: its words and glue. Stage 2: its patterns and permutations.
  const auto fetch_glue = [&](const uint64_t* words) {
    Chunk c{};
    c.w = _mm512_loadu_si512(words);
    const __m512i j0 = _mm512_and_si512(_mm512_srli_epi64(c.w, F::kShift0), _mm512_set1_epi64(F::kMark));
    c.escape = _mm512_cmpeq_epi64_mask(j0, _mm512_set1_epi64(F::kMark)) != 0;
    if (__builtin_expect(c.escape, 0)) return c;
    c.glue = _mm512_i64gather_epi64(
        _mm512_and_si512(_mm512_srli_epi64(c.w, G), _mm512_set1_epi64((1 << kGlueBits) - 1)), glue64, 8);
    return c;
  };
  const auto fetch_patterns = [&](Chunk& c) {
    if (__builtin_expect(c.escape, 0)) return;
    const __m512i type_mask = _mm512_set1_epi64(7);
    const __m512i entry[3] = {
        _mm512_or_si512(_mm512_slli_epi64(_mm512_and_si512(_mm512_srli_epi64(c.glue, kTypeShift), type_mask), F::kBits0),
                        _mm512_and_si512(_mm512_srli_epi64(c.w, F::kShift0), _mm512_set1_epi64(F::kMark))),
        _mm512_or_si512(
            _mm512_slli_epi64(_mm512_and_si512(_mm512_srli_epi64(c.glue, kTypeShift + 3), type_mask), F::kBits0),
            _mm512_and_si512(_mm512_srli_epi64(c.w, F::kShift1), _mm512_set1_epi64((1u << F::kBits1) - 1))),
        _mm512_or_si512(
            _mm512_slli_epi64(_mm512_and_si512(_mm512_srli_epi64(c.glue, kTypeShift + 6), type_mask), F::kBits0),
            _mm512_srli_epi64(c.w, F::kShift2))};
    for (int k = 0; k < 3; ++k) {
      c.pattern[k] = _mm512_i64gather_epi64(entry[k], patterns, 8);
      c.perm[k] = _mm512_i64gather_epi64(
          _mm512_and_si512(_mm512_srli_epi64(c.glue, kPermShift + 8 * k), _mm512_set1_epi64(0xFF)), perms, 8);
    }
  };
  const auto accumulate_chunk = [&](const Chunk& c, float scale, const float* xk, __m512* acc) {
    __m512i v[3];
    __m512i norm = _mm512_setzero_si512();
    for (int k = 0; k < 3; ++k) {
      v[k] = _mm512_shuffle_epi8(c.pattern[k], _mm512_or_si512(c.perm[k], second_octet));
      const auto neg = static_cast<__mmask64>(
          _mm_cvtsi128_si64(_mm512_cvtepi64_epi8(_mm512_srli_epi64(c.glue, kSignShift + 8 * k))));
      // |v|² per block: squares by table (|v_i| ≤ 15 outside escapes), summed per 8 bytes.
      if (kShapeGain)
        norm = _mm512_add_epi64(
            norm, _mm512_sad_epu8(_mm512_shuffle_epi8(squares, _mm512_abs_epi8(v[k])), _mm512_setzero_si512()));
      v[k] = _mm512_mask_sub_epi8(v[k], neg, _mm512_setzero_si512(), v[k]);
    }
    __m512 fz;
    if (kShapeGain) {
      static_assert(kMaxShells == 17);  // gain·17 = (gain << 4) + gain
      const __m512i gain = _mm512_and_si512(c.w, _mm512_set1_epi64((1 << G) - 1));
      const __m512i index =
          _mm512_add_epi64(_mm512_add_epi64(_mm512_slli_epi64(gain, 4), gain), _mm512_srli_epi64(norm, 4));
      fz = _mm512_castps256_ps512(_mm256_mul_ps(_mm512_i64gather_ps(index, m.gemv_factor, 4), _mm256_set1_ps(scale)));
    } else {
      fz = _mm512_set1_ps(scale * m.gemv_factor[0]);
    }
    // The bytes go through the stack: a 16-byte load widened in one instruction costs less
    // than an extract from the register.
    alignas(64) int8_t bytes[3][64];
    for (int k = 0; k < 3; ++k) _mm512_store_si512(bytes[k], v[k]);
    // Per pair of blocks the three octets' products, then one multiply-add by the factors:
    // the factors (which wait on the gathers) enter last.
    for (int q = 0; q < 4; ++q) {
      __m512 d = _mm512_setzero_ps();
      for (int k = 0; k < 3; ++k) {
        const __m512 vf = _mm512_cvtepi32_ps(
            _mm512_cvtepi8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(bytes[k] + 16 * q))));
        d = _mm512_fmadd_ps(vf, _mm512_loadu_ps(xk + 64 * k + 16 * q), d);
      }
      acc[q] = _mm512_fmadd_ps(d, kShapeGain ? _mm512_permutexvar_ps(spread[q], fz) : fz, acc[q]);
    }
  };
  const auto one_block = [&](uint64_t word, float scale, const float* xb, Avx512::Acc& rest) {
    uint32_t norm = 0;
    const __m256i v = block_bytes<Avx512, G, kShapeGain>(m, word, &norm);
    const float f = kShapeGain ? scale * m.gemv_factor[(word & ((1u << G) - 1)) * kMaxShells + (norm >> 4)]
                               : scale * m.gemv_factor[0];
    Avx512::accumulate(rest, v, f, xb);
  };
  for (int64_t r = r0; r < r1; ++r) {
    const uint64_t* words = m.words + r * m.blocks;
    const float* scales = m.scales + r * m.groups;
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    Avx512::Acc rest = Avx512::zero();
    for (int64_t g = 0, j = 0; g < m.groups; ++g) {
      const float scale = scales[g];
      const int64_t end = j + m.blocks_per_group;
      // Software pipelined: the glue of chunk q + 2 and the patterns of chunk q + 1 are
      // gathered before chunk q's arithmetic, so their latencies overlap it.
      const int64_t chunks = (end - j) / 8;
      Chunk cur = chunks > 0 ? fetch_glue(words + j) : Chunk{};
      Chunk next = chunks > 1 ? fetch_glue(words + j + 8) : Chunk{};
      if (chunks > 0) fetch_patterns(cur);
      for (int64_t q = 0; q < chunks; ++q, j += 8) {
        const Chunk after = q + 2 < chunks ? fetch_glue(words + j + 16) : Chunk{};
        if (q + 1 < chunks) fetch_patterns(next);
        if (__builtin_expect(cur.escape, 0)) {
          for (int64_t b = j; b < j + 8; ++b) one_block(words[b], scale, xt + kDim * b, rest);
        } else {
          accumulate_chunk(cur, scale, xc + 24 * j, acc);
        }
        cur = next;
        next = after;
      }
      for (; j < end; ++j) one_block(words[j], scale, xt + kDim * j, rest);
    }
    y[r - r0] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]))) +
                Avx512::sum(rest);
  }
}

void gemv_rows_wide_dispatch(const View& m, const float* x, int64_t r0, int64_t r1, float* y) {
  const bool sg = m.kind == Kind::ShapeGain;
  switch (m.gain_bits) {
    case 0: return sg ? gemv_rows_wide<0, true>(m, x, r0, r1, y) : gemv_rows_wide<0, false>(m, x, r0, r1, y);
    case 1: return gemv_rows_wide<1, true>(m, x, r0, r1, y);
    case 2: return gemv_rows_wide<2, true>(m, x, r0, r1, y);
    case 3: return gemv_rows_wide<3, true>(m, x, r0, r1, y);
    default: return gemv_rows_wide<4, true>(m, x, r0, r1, y);
  }
}

}  // namespace

void decode_rows_avx512(const View& m, int64_t r0, int64_t r1, float* out) { decode_rows_dispatch<Avx512>(m, r0, r1, out); }
void gemv_rows_avx512(const View& m, const float* x, int64_t r0, int64_t r1, float* y) {
  // Chunks of 8 blocks must start at multiples of 8 (chunk_order's layout).
  if (m.groups == 1 || m.blocks_per_group % 8 == 0)
    gemv_rows_wide_dispatch(m, x, r0, r1, y);
  else
    gemv_rows_dispatch<Avx512>(m, x, r0, r1, y);
}

}  // namespace llvq::kernels::octet
