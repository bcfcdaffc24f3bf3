// Scalar reference of the search kernels and the run-time choice among the ISA levels.
#include <algorithm>
#include <bit>
#include <cmath>

#include "lattice/ball_kernels_impl.hpp"

namespace llvq::lattice {
namespace {

// One lane; the same operations as the SIMD traits (std::fma, never a contracted a·b + c).
struct ScalarTraits {
  static constexpr int kFloats = 1, kGroupBits = 8;
  using F = float;
  using U = uint32_t;
  using M = bool;
  template <int N>
  struct Table {
    const float* v;
    explicit Table(const float* values) : v(values) {}
    float lookup(uint32_t r) const { return v[r & (N - 1)]; }
  };
  // 256 entries of 32 bits; the codeword statistics keep them alive while they are used.
  struct Group {
    const void* t = nullptr;
    Group() = default;
    explicit Group(const void* entries) : t(entries) {}
    F lookup_sum(U p) const { return static_cast<const float*>(t)[p]; }
    U lookup_mask(U p) const { return static_cast<const uint32_t*>(t)[p]; }
  };
  static F loadf(const float* p) { return *p; }
  static F loadf_reversed(const float* p) { return *p; }
  static void storef(float* p, F v) { *p = v; }
  static F zerof() { return 0.0f; }
  static F set1f(float v) { return v; }
  static F addf(F a, F b) { return a + b; }
  static F subf(F a, F b) { return a - b; }
  static F mulf(F a, F b) { return a * b; }
  static F fmaf(F a, F b, F c) { return std::fma(a, b, c); }
  static F absf(F a) { return std::abs(a); }
  static F minf(F a, F b) { return std::min(a, b); }
  static F maxf(F a, F b) { return std::max(a, b); }
  static unsigned gef(F a, F b) { return a >= b; }
  static unsigned lef(F a, F b) { return a <= b; }
  static U loadu(const uint32_t* p) { return *p; }
  static void storeu(uint32_t* p, U v) { *p = v; }
  static U zerou() { return 0; }
  static U set1u(uint32_t v) { return v; }
  static U andu(U a, U b) { return a & b; }
  static U oru(U a, U b) { return a | b; }
  static U xoru(U a, U b) { return a ^ b; }
  static U negu(U a) { return 0u - a; }
  static U addu(U a, U b) { return a + b; }
  static U bitsf(F a) { return std::bit_cast<uint32_t>(a); }
  static U srlu(U a, int n) { return a >> n; }
  static M nonzero(U a) { return a != 0; }
  static U select(M m, U a, U b) { return m ? a : b; }
  static U highest_index(U m) { return m ? static_cast<U>(31 - std::countl_zero(m)) : 0u; }
  static F to_float(U a) { return static_cast<float>(a); }
  static U bit_index(U bit) { return bit ? static_cast<U>(std::countr_zero(bit)) : 0u; }
};

}  // namespace

BallKernels ball_kernels_scalar() { return impl::kernels<ScalarTraits>(); }

const BallKernels& ball_kernels() {
  static const BallKernels scalar = ball_kernels_scalar(), avx2 = ball_kernels_avx2(),
                           avx512 = ball_kernels_avx512();
  return for_search_isa(scalar, avx2, avx512);
}

}  // namespace llvq::lattice
