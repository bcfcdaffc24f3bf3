// AVX2 traits of the GLVQ kernels (glvq_kernels_simd.hpp): 8 codes per step, every bit width.
#include "kernels/glvq_kernels_simd.hpp"

namespace llvq::kernels::glvq {
namespace {

struct Avx2 {
  using Vec = __m256;
  using Unpack = Unpack8;
  static constexpr int kLanes = 8;
  static constexpr int kMaxBits = glvq::kMaxBits;
  static constexpr const int* kLaneColumn = Unpack8::kLaneColumn;
  static Vec zero() { return _mm256_setzero_ps(); }
  static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  static Vec fma(__m256i codes, Vec xp, Vec acc) { return _mm256_fmadd_ps(_mm256_cvtepi32_ps(codes), xp, acc); }
  static Vec add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
  static float sum(Vec v) { return sum8(v); }
};

}  // namespace

void decode_rows_avx2(const View& v, int64_t r0, int64_t r1, float* out) { decode_rows_dispatch(v, r0, r1, out); }
void gemv_rows_avx2(const View& v, const float* x, int64_t r0, int64_t r1, float* y) {
  gemv_rows_dispatch<Avx2>(v, x, r0, r1, y);
}

}  // namespace llvq::kernels::glvq
