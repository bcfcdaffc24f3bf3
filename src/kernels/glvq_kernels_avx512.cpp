// AVX-512 traits of the GLVQ kernels (glvq_kernels_simd.hpp): 16 codes per step for widths up
// to 8 bits (codes 0..7 and 8..15 from two 8-byte loads, one merge-masked dword shuffle).
#include "kernels/glvq_kernels_simd.hpp"

namespace llvq::kernels::glvq {
namespace {

// 16 codes of b ≤ 8 bits at p as 32-bit lanes [z0, z8, z1, z9, …, z7, z15].
struct Unpack16 {
  static constexpr int kLaneColumn[16] = {0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15};
  __m512i shift, mask;
  int64_t hi_byte;
  explicit Unpack16(const Group& grp)
      : shift(_mm512_load_si512(grp.shift16)), mask(_mm512_set1_epi32((1 << grp.bits) - 1)), hi_byte(grp.bits) {}
  __m512i operator()(const uint8_t* p) const {
    const __m512i lo = _mm512_srlv_epi64(_mm512_set1_epi64(load64(p)), shift);
    const __m512i hi = _mm512_srlv_epi64(_mm512_set1_epi64(load64(p + hi_byte)), shift);
    // Odd dwords take the low dword of hi's 64-bit lane: dwords (0, 0, 2, 2) of each 128 bits.
    return _mm512_and_si512(_mm512_mask_shuffle_epi32(lo, 0xAAAA, hi, _MM_PERM_CCAA), mask);
  }
};

struct Avx512 {
  using Vec = __m512;
  using Unpack = Unpack16;
  static constexpr int kLanes = 16;
  static constexpr int kMaxBits = 8;
  static constexpr const int* kLaneColumn = Unpack16::kLaneColumn;
  static Vec zero() { return _mm512_setzero_ps(); }
  static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  static Vec fma(__m512i codes, Vec xp, Vec acc) { return _mm512_fmadd_ps(_mm512_cvtepi32_ps(codes), xp, acc); }
  static Vec add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
  static float sum(Vec v) { return sum8(_mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1))); }
};

}  // namespace

void decode_rows_avx512(const View& v, int64_t r0, int64_t r1, float* out) { decode_rows_dispatch(v, r0, r1, out); }
void gemv_rows_avx512(const View& v, const float* x, int64_t r0, int64_t r1, float* y) {
  gemv_rows_dispatch<Avx512>(v, x, r0, r1, y);
}

}  // namespace llvq::kernels::glvq
