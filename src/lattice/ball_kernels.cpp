// Scalar reference of the search kernels and the run-time choice among the ISA levels.
#include <bit>
#include <cmath>

#include "lattice/ball_kernels_impl.hpp"

namespace llvq::lattice {
namespace {

// One lane; the same operations as the SIMD traits (std::fma, never a contracted a·b + c).
struct ScalarTraits {
  static constexpr int kWidth = 1, kFloats = 1;
  using D = double;
  using F = float;
  using I = uint64_t;
  template <int N>
  struct Table {
    const double* v;
    explicit Table(const double* values) : v(values) {}
    double lookup(int r) const { return v[r & (N - 1)]; }
  };
  static D load(const double* p) { return *p; }
  static void store(double* p, D v) { *p = v; }
  static void store_rounded(float* p, D v) { *p = static_cast<float>(v); }
  static I loadi(const uint64_t* p) { return *p; }
  static void storei(uint64_t* p, I v) { *p = v; }
  static D zero() { return 0.0; }
  static D add(D a, D b) { return a + b; }
  static F loadf(const float* p) { return *p; }
  static F loadf_reversed(const float* p) { return *p; }
  static F set1f(float v) { return v; }
  static F subf(F a, F b) { return a - b; }
  static F mulf(F a, F b) { return a * b; }
  static F fmaf(F a, F b, F c) { return std::fma(a, b, c); }
  static F absf(F a) { return std::abs(a); }
  static unsigned gef(F a, F b) { return a >= b; }
  static unsigned lef(F a, F b) { return a <= b; }
  static int lowest(I m) { return std::countr_zero(m); }
  static int highest(I m) { return 63 - std::countl_zero(m); }
  static I clear_lowest(I m) { return m & (m - 1); }
  static I clear_bit(I m, int r) { return r >= 0 ? m & ~(uint64_t{1} << r) : m; }
};

}  // namespace

BallKernels ball_kernels_scalar() { return impl::kernels<ScalarTraits>(); }

const BallKernels& ball_kernels() {
  static const BallKernels scalar = ball_kernels_scalar(), avx2 = ball_kernels_avx2(),
                           avx512 = ball_kernels_avx512();
  switch (search_isa()) {
    case SearchIsa::Avx512: return avx512;
    case SearchIsa::Avx2: return avx2;
    case SearchIsa::Scalar: break;
  }
  return scalar;
}

}  // namespace llvq::lattice
