// AVX-512 dense GEMV rows (compiled with AVX-512 flags only): the traits of
// dense_gemv_simd.hpp, 16 lanes, column tails by one masked step.
// GCC 12 reports the undefined-vector idiom (`__Y = __Y`) inside its own AVX-512 intrinsics as
// uninitialized once the batched rows (kRows × kTokens accumulators) inline them: a false
// positive, silenced for the intrinsics header only (the warning's location is in it).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include "kernels/dense_gemv_simd.hpp"
#include "kernels/table_simd.hpp"

namespace llvq::kernels::detail {

namespace {

struct Avx512 {
  using Vec = __m512;
  static constexpr int64_t kLanes = 16;
  static constexpr int kAccumulators = 16;  // of the 32 vector registers
  static Vec zero() { return _mm512_setzero_ps(); }
  static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  static Vec load(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static Vec load(const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
  static Vec load(const uint16_t* p, __mmask16 m) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p)); }
  static Vec fma(Vec a, Vec b, Vec acc) { return _mm512_fmadd_ps(a, b, acc); }
  static Vec set1(float v) { return _mm512_set1_ps(v); }
  static Vec mul(Vec a, Vec b) { return _mm512_mul_ps(a, b); }
  static Vec widen(const int8_t* p) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
  }
  static Vec add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
  template <class T>
  static float finish(Vec acc, const T* w, const float* x, int64_t c, int64_t cols) {
    if (c < cols) {
      const auto m = static_cast<__mmask16>((1u << (cols - c)) - 1);
      acc = _mm512_fmadd_ps(load(w + c, m), load(x + c, m), acc);
    }
    return _mm512_reduce_add_ps(acc);
  }
};

}  // namespace

void dense_f32_avx512(const float* w, int64_t cols, const float* x, int64_t r0, int64_t r1, float* y) {
  dense_rows<Avx512>(w, cols, x, r0, r1, y);
}
void dense_f16_avx512(const uint16_t* w, int64_t cols, const float* x, int64_t r0, int64_t r1, float* y) {
  dense_rows<Avx512>(w, cols, x, r0, r1, y);
}
void dense_q8_0_avx512(const uint8_t* w, int64_t cols, const float* x, int64_t r0, int64_t r1, float* y) {
  dense_q8_0_rows<Avx512>(w, cols, x, r0, r1, y);
}
void dense_f32_tokens_avx512(const float* w, int64_t cols, const float* x, int64_t ldx, int64_t tokens, int64_t r0,
                          int64_t r1, float* y, int64_t ldy) {
  dense_rows_tokens<Avx512>(w, cols, x, ldx, tokens, r0, r1, y, ldy);
}

}  // namespace llvq::kernels::detail
