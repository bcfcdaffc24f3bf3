// Scalar reference of the search kernels and the run-time choice among the ISA levels.
#include <bit>
#include <cmath>

#include "lattice/ball_kernels_impl.hpp"

namespace llvq::lattice {
namespace {

// One lane; the same operations as the SIMD traits (std::fma, never a contracted a·b + c).
struct ScalarTraits {
  static constexpr int kWidth = 1;
  using D = double;
  using I = uint64_t;
  template <int N>
  struct Table {
    const double* v;
    explicit Table(const double* values) : v(values) {}
    double lookup(int r) const { return v[r & (N - 1)]; }
  };
  static D load(const double* p) { return *p; }
  static void store(double* p, D v) { *p = v; }
  static I loadi(const uint64_t* p) { return *p; }
  static void storei(uint64_t* p, I v) { *p = v; }
  static D zero() { return 0.0; }
  static D set1(double v) { return v; }
  static D add(D a, D b) { return a + b; }
  static D sub(D a, D b) { return a - b; }
  static D mul(D a, D b) { return a * b; }
  static D fma(D a, D b, D c) { return std::fma(a, b, c); }
  static D abs(D a) { return std::abs(a); }
  static unsigned ge(D a, D b) { return a >= b; }
  static unsigned le(D a, D b) { return a <= b; }
  static unsigned gt(D a, D b) { return a > b; }
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
