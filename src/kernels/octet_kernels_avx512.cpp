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
  const int64_t chunks = m.blocks / 8;
  float* xc = thread_scratch(static_cast<size_t>(192 * chunks), 1);
  for (int64_t c = 0; c < chunks; ++c)
    for (int k = 0; k < 3; ++k)
      for (int b = 0; b < 8; ++b)
        for (int i = 0; i < 8; ++i) xc[192 * c + 64 * k + 8 * b + i] = x[kDim * (8 * c + b) + m.trio[8 * k + i]];
  return xc;
}

// Eight blocks at once, octet by octet: one gather of the glue, then per octet one gather of
// the eight patterns and one of their permutations, a single 64-byte shuffle and masked
// negation; |v|² of each block from a square table summed per 8 bytes.
// v² for |v| = 0..15, in each 128-bit lane (a vpshufb table).
alignas(64) inline constexpr uint8_t kSquares[64] = {
    0, 1, 4, 9, 16, 25, 36, 49, 64, 81, 100, 121, 144, 169, 196, 225, 0, 1, 4, 9, 16, 25, 36, 49, 64, 81, 100, 121,
    144, 169, 196, 225, 0, 1, 4, 9, 16, 25, 36, 49, 64, 81, 100, 121, 144, 169, 196, 225, 0, 1, 4, 9, 16, 25, 36, 49,
    64, 81, 100, 121, 144, 169, 196, 225};

// Stored pattern bytes (Arena::patterns) as their int8 values, 64 at a time.
inline __m512i pattern_values(__m512i stored) {
  const __m512i sign = _mm512_set1_epi8(0x40);
  return _mm512_sub_epi8(_mm512_xor_si512(_mm512_and_si512(stored, _mm512_set1_epi8(0x7F)), sign), sign);
}

template <int G, int W>
class Chunks {
 public:
  using F = Fields<G, Words<W>::kLead>;  // fields read from the words as loaded
  struct Chunk {
    __m512i w, layout, glue, pattern[3], perm[3];
    bool escape;
  };

  explicit Chunks(const View& m)
      : m_(m),
        second_octet_(_mm512_set_epi64(kSecondOctet, 0, kSecondOctet, 0, kSecondOctet, 0, kSecondOctet, 0)),
        squares_(_mm512_loadu_si512(kSquares)),
        glue_(reinterpret_cast<const long long*>(m.glue)),
        patterns_(reinterpret_cast<const long long*>(m.patterns)),
        perms_(reinterpret_cast<const long long*>(m.perms)) {
    if (!F::matches(m) || !Words<W>::matches(m)) throw std::logic_error("octet kernels: field layout mismatch");
    // Eight words of W bytes, loaded as 64 bytes from the 8 bytes that end at the first word's
    // last byte: word b's 8 bytes start at byte W·b. A 16-bit permutation brings the bytes of
    // words 2L and 2L + 1 (from byte 2LW, even) into 128-bit lane L, a byte shuffle within the
    // lane puts each into its 64-bit lane (both the identity for W = 8).
    alignas(64) uint16_t spread[32];
    alignas(64) uint8_t within[64];
    for (int lane = 0; lane < 4; ++lane)
      for (int i = 0; i < 8; ++i) {
        spread[8 * lane + i] = static_cast<uint16_t>(lane * W + i);
        within[16 * lane + i] = static_cast<uint8_t>(i);
        within[16 * lane + 8 + i] = static_cast<uint8_t>(W + i);
      }
    spread_ = _mm512_load_si512(spread);
    within_ = _mm512_load_si512(within);
    // The layouts' shifts of j1 and j2, one 64-bit lane per layout, for a per-lane permutation.
    alignas(64) int64_t shift1[8], shift2[8];
    for (int s = 0; s < 8; ++s) {
      shift1[s] = m.layouts[s].shift[1] + Words<W>::kLead;
      shift2[s] = m.layouts[s].shift[2] + Words<W>::kLead;
    }
    shift1_ = _mm512_load_si512(shift1);
    shift2_ = _mm512_load_si512(shift2);
  }

  // Runs a scale group's blocks [j, end): whole chunks through on_chunk(chunk, first block),
  // software pipelined (the glue of chunk q + 2 and the patterns of chunk q + 1 are gathered
  // before chunk q's work, so their latencies overlap it); chunks holding an escape and the
  // group's last blocks through on_block(block).
  // `at` is word_end of the row's first word.
  template <class OnChunk, class OnBlock>
  void run_group(const uint8_t* at, int64_t j, int64_t end, OnChunk&& on_chunk, OnBlock&& on_block) const {
    const int64_t chunks = (end - j) / 8;
    Chunk cur = chunks > 0 ? fetch_glue(at + W * j) : Chunk{};
    Chunk next = chunks > 1 ? fetch_glue(at + W * (j + 8)) : Chunk{};
    if (chunks > 0) fetch_patterns(cur);
    for (int64_t q = 0; q < chunks; ++q, j += 8) {
      const Chunk after = q + 2 < chunks ? fetch_glue(at + W * (j + 16)) : Chunk{};
      if (q + 1 < chunks) fetch_patterns(next);
      if (__builtin_expect(cur.escape, 0)) {
        for (int64_t b = j; b < j + 8; ++b) on_block(b);
      } else {
        on_chunk(cur, j);
      }
      cur = next;
      next = after;
    }
    for (; j < end; ++j) on_block(j);
  }

  // The chunk's coordinates, v[k] holding octet k of block b at bytes 8b..8b+7 (trio order),
  // and, when kNorm, |v|² of each block (one per 64-bit lane).
  template <bool kNorm>
  void octets(const Chunk& c, __m512i* v, __m512i* norm) const {
    if (kNorm) *norm = _mm512_setzero_si512();
    for (int k = 0; k < 3; ++k) {
      v[k] = _mm512_shuffle_epi8(pattern_values(c.pattern[k]), _mm512_or_si512(c.perm[k], second_octet_));
      const auto neg = static_cast<__mmask64>(
          _mm_cvtsi128_si64(_mm512_cvtepi64_epi8(_mm512_srli_epi64(c.glue, kSignShift + 8 * k))));
      // Squares by table (|v_i| ≤ 15 outside escapes), summed per 8 bytes.
      if (kNorm)
        *norm = _mm512_add_epi64(
            *norm, _mm512_sad_epu8(_mm512_shuffle_epi8(squares_, _mm512_abs_epi8(v[k])), _mm512_setzero_si512()));
      v[k] = _mm512_mask_sub_epi8(v[k], neg, _mm512_setzero_si512(), v[k]);
    }
  }

 private:
  // Stage 1 of a chunk: its words (`at`: word_end of the first) and glue.
  Chunk fetch_glue(const uint8_t* at) const {
    Chunk c{};
    const __m512i bytes = _mm512_loadu_si512(at);
    c.w = _mm512_shuffle_epi8(_mm512_permutexvar_epi16(spread_, bytes), within_);
    c.layout = _mm512_and_si512(_mm512_srli_epi64(c.w, F::kLayoutShift), _mm512_set1_epi64((1 << kLayoutBits) - 1));
    c.escape = _mm512_cmpeq_epi64_mask(c.layout, _mm512_set1_epi64(kEscapeLayout)) != 0;
    if (__builtin_expect(c.escape, 0)) return c;
    c.glue = _mm512_i64gather_epi64(
        _mm512_and_si512(_mm512_srli_epi64(c.w, Words<W>::kLead + G), _mm512_set1_epi64((1 << kGlueBits) - 1)), glue_,
        8);
    return c;
  }

  // Stage 2: its patterns and permutations.
  void fetch_patterns(Chunk& c) const {
    if (__builtin_expect(c.escape, 0)) return;
    const __m512i type_mask = _mm512_set1_epi64(7);
    // Each lane's shifts of j1 and j2 by permutation; the widths of j0 and j1 are their
    // differences (two permutations fewer on the shuffle port than looking the masks up).
    const __m512i s1 = _mm512_permutexvar_epi64(c.layout, shift1_), s2 = _mm512_permutexvar_epi64(c.layout, shift2_);
    const auto low_bits = [](__m512i width) {
      return _mm512_sub_epi64(_mm512_sllv_epi64(_mm512_set1_epi64(1), width), _mm512_set1_epi64(1));
    };
    const __m512i position[3] = {
        _mm512_and_si512(_mm512_srli_epi64(c.w, F::kShift0),
                         low_bits(_mm512_sub_epi64(s1, _mm512_set1_epi64(F::kShift0)))),
        _mm512_and_si512(_mm512_srlv_epi64(c.w, s1), low_bits(_mm512_sub_epi64(s2, s1))),
        _mm512_srlv_epi64(c.w, s2)};
    __m512i entry[3];
    for (int k = 0; k < 3; ++k)
      entry[k] = _mm512_or_si512(
          _mm512_slli_epi64(_mm512_and_si512(_mm512_srli_epi64(c.glue, kTypeShift + 3 * k), type_mask), kEntryBits),
          position[k]);
    for (int k = 0; k < 3; ++k) {
      c.pattern[k] = _mm512_i64gather_epi64(entry[k], patterns_, 8);
      c.perm[k] = _mm512_i64gather_epi64(
          _mm512_and_si512(_mm512_srli_epi64(c.glue, kPermShift + 8 * k), _mm512_set1_epi64(0xFF)), perms_, 8);
    }
  }

  const View& m_;
  __m512i second_octet_, squares_, spread_, within_, shift1_, shift2_;
  const long long *glue_, *patterns_, *perms_;
};

// The GEMV over chunks: per pair of blocks the three octets' products are summed, then one
// multiply-add by the gathered block factors (which wait on the gathers) into one of four
// accumulators. Chunks must start at multiples of 8 blocks (chunk_order's layout of x).
template <int G, bool kShapeGain, int W>
void gemv_rows_wide(const View& m, const float* x, int64_t r0, int64_t r1, float* y) {
  using Chunk = typename Chunks<G, W>::Chunk;
  const Chunks<G, W> chunks(m);
  const float* xt = trio_order(m, x, 0, 1);
  const float* xc = chunk_order(m, x);
  __m512i spread[4];  // lanes of block 2q, then of block 2q + 1
  for (int q = 0; q < 4; ++q)
    spread[q] = _mm512_set_epi32(2 * q + 1, 2 * q + 1, 2 * q + 1, 2 * q + 1, 2 * q + 1, 2 * q + 1, 2 * q + 1, 2 * q + 1,
                                 2 * q, 2 * q, 2 * q, 2 * q, 2 * q, 2 * q, 2 * q, 2 * q);
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* at = word_end(m, r * m.blocks);
    const uint16_t* scales = m.scales + r * m.groups;
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    Avx512::Acc rest = Avx512::zero();
    for (int64_t g = 0, j = 0; g < m.groups; ++g, j += m.blocks_per_group) {
      const float scale = scale_of(scales[g]);
      const auto on_chunk = [&](const Chunk& c, int64_t first) {
        __m512i v[3], norm;
        chunks.template octets<kShapeGain>(c, v, &norm);
        __m512 fz;
        if (kShapeGain) {
          const __m512i gain =
              _mm512_and_si512(_mm512_srli_epi64(c.w, Words<W>::kLead), _mm512_set1_epi64((1 << G) - 1));
          const __m512i index = _mm512_or_si512(_mm512_srli_epi64(norm, 4 - G), gain);
          fz = _mm512_castps256_ps512(_mm256_mul_ps(_mm512_i64gather_ps(index, m.gemv_factor, 4), _mm256_set1_ps(scale)));
        } else {
          fz = _mm512_set1_ps(scale * m.gemv_factor[0]);
        }
        // The bytes go through the stack: a 16-byte load widened in one instruction costs
        // less than an extract from the register.
        alignas(64) int8_t bytes[3][64];
        for (int k = 0; k < 3; ++k) _mm512_store_si512(bytes[k], v[k]);
        const float* xk = xc + 24 * first;  // 192 floats per chunk of 8 blocks
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
      const auto on_block = [&](int64_t b) {
        uint32_t norm = 0;
        const uint64_t loaded = Words<W>::loaded(at, b);
        const __m256i v = block_bytes<Avx512, G, kShapeGain, W>(m, loaded, &norm);
        Avx512::accumulate(rest, v, block_gemv_factor<G, kShapeGain>(m, loaded >> Words<W>::kLead, norm, scale),
                           xt + kDim * b);
      };
      chunks.run_group(at, j, j + m.blocks_per_group, on_chunk, on_block);
    }
    y[r - r0] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]))) +
                Avx512::sum(rest);
  }
}

}  // namespace

// The decode stays one block at a time: an eight-block version (same gathers as the GEMV)
// measured no faster, its time going to the double-precision scaling and the stores.
void decode_rows_avx512(const View& m, int64_t r0, int64_t r1, float* out) { decode_rows_dispatch<Avx512>(m, r0, r1, out); }
void gemv_rows_avx512(const View& m, const float* x, int64_t r0, int64_t r1, float* y) {
  // Chunks of 8 blocks must start at multiples of 8 (chunk_order's layout).
  if (use_wide_gemv() && (m.groups == 1 || m.blocks_per_group % 8 == 0))
    with_words(m, [&](auto g, auto sg, auto w) { gemv_rows_wide<g(), sg(), w()>(m, x, r0, r1, y); });
  else  // the one-block kernel (AVX2 instructions only), built once in the AVX2 file
    gemv_rows_avx2(m, x, r0, r1, y);
}

}  // namespace llvq::kernels::octet
