// AVX2 dense GEMV rows (compiled with AVX2/FMA/F16C flags only): the traits of
// dense_gemv_simd.hpp, 8 lanes, column tails by a scalar loop.
#include <immintrin.h>

#include "kernels/dense_gemv_simd.hpp"
#include "kernels/table_simd.hpp"

namespace llvq::kernels::detail {

namespace {

struct Avx2 {
  using Vec = __m256;
  static constexpr int64_t kLanes = 8;
  static constexpr int kAccumulators = 8;  // of the 16 vector registers
  static Vec zero() { return _mm256_setzero_ps(); }
  static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  static Vec load(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static Vec fma(Vec a, Vec b, Vec acc) { return _mm256_fmadd_ps(a, b, acc); }
  static Vec set1(float v) { return _mm256_set1_ps(v); }
  static Vec mul(Vec a, Vec b) { return _mm256_mul_ps(a, b); }
  static Vec widen(const int8_t* p) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
  static Vec add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
  static float one(const float* p) { return *p; }
  static float one(const uint16_t* p) { return _cvtsh_ss(*p); }
  template <class T>
  static float finish(Vec acc, const T* w, const float* x, int64_t c, int64_t cols) {
    const __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
    float sum = _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
    for (; c < cols; ++c) sum += one(w + c) * x[c];
    return sum;
  }
};

}  // namespace

void dense_f32_avx2(const float* w, int64_t cols, const float* x, int64_t r0, int64_t r1, float* y) {
  dense_rows<Avx2>(w, cols, x, r0, r1, y);
}
void dense_f16_avx2(const uint16_t* w, int64_t cols, const float* x, int64_t r0, int64_t r1, float* y) {
  dense_rows<Avx2>(w, cols, x, r0, r1, y);
}
void dense_q8_0_avx2(const uint8_t* w, int64_t cols, const float* x, int64_t r0, int64_t r1, float* y) {
  dense_q8_0_rows<Avx2>(w, cols, x, r0, r1, y);
}
void dense_f32_tokens_avx2(const float* w, int64_t cols, const float* x, int64_t ldx, int64_t tokens, int64_t r0,
                          int64_t r1, float* y, int64_t ldy) {
  dense_rows_tokens<Avx2>(w, cols, x, ldx, tokens, r0, r1, y, ldy);
}

}  // namespace llvq::kernels::detail
