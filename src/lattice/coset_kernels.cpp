// Scalar reference of the coset-cost kernels (one lane) and the run-time choice among the ISA
// levels.
#include <algorithm>

#include "lattice/coset_kernels_impl.hpp"

namespace llvq::lattice {
namespace {

struct ScalarTraits {
  using Cost = double;
  static constexpr int kLanes = 1;
  using D = double;
  using I = int32_t;
  using Index = int32_t;
  using M = bool;
  static I load_labels(const int32_t* p) { return *p; }
  static I complement(I l) { return 15 - l; }
  static Index index(I i) { return i; }
  static D lookup16(const double* table, Index i) { return table[i]; }
  static M bits_at(uint32_t mask, I i) { return (mask >> i & 1) != 0; }
  static M mask_xor(M a, M b) { return a != b; }
  static M lane_mask(uint32_t bits) { return (bits & 1) != 0; }
  static uint32_t mask_bits(M m) { return m ? 1 : 0; }
  static D add(D a, D b) { return a + b; }
  static D sub(D a, D b) { return a - b; }
  static D min(D a, D b) { return std::min(a, b); }
  static M lt(D a, D b) { return a < b; }
  static M le(D a, D b) { return a <= b; }
  static D select(M m, D a, D b) { return m ? a : b; }
  static D load(const double* p) { return *p; }
  static void store(double* p, D v) { *p = v; }
  static D set1(double v) { return v; }
  static D load_xor(const double* block, int a, int b0) { return block[b0 ^ a]; }
  static double least(D v) { return v; }
};

}  // namespace

CosetKernels coset_kernels_scalar() { return kernels<ScalarTraits>(); }

const CosetKernels& coset_kernels() {
  static const CosetKernels scalar = coset_kernels_scalar(), avx2 = coset_kernels_avx2(),
                            avx512 = coset_kernels_avx512();
  return for_search_isa(scalar, avx2, avx512);
}

}  // namespace llvq::lattice
