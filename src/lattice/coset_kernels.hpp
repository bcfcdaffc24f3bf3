// The inner loops of the Leech nearest-point decoder (leech.cpp): the soft costs of the 64
// complement classes of each octad of the trio (from the 16 patterns of each half-octad) and of
// the 512 coset triples, for one half (h = 0: even points, 1: odd points), their minimum, and
// which of them lie within a bound. One body (coset_kernels_impl.hpp) over a per-ISA traits
// type: coset_kernels.cpp (scalar), coset_kernels_avx2.cpp, coset_kernels_avx512.cpp. Every
// level performs the same double operations in the same order (sums left to right, minima of
// equal values are equal), so every level returns the same bits and the decoder the same points.
#pragma once

#include <cstdint>

#include "lattice/search_isa.hpp"

namespace llvq::lattice {

// The soft triples of the 24 coordinates for one residue: the nearest admissible value's cost,
// the extra cost of the nearest value of the other parity, and that parity (bit i).
template <class Cost>
struct CoordinateColumns {
  const Cost* best;
  const Cost* extra;
  uint32_t parity;
};

template <class Cost>
struct CosetCostJob {
  int h;
  CoordinateColumns<Cost> off, on;  // residue h (off the codeword) and h + 2 (on it)
  const int* positions;             // [3][8]: the coordinates of each octad of the trio
  // [3][64]: the low and high nibbles of the representative word of class label k of octad j
  // (labels 8x + a, so that the 512 coset triples are (8x + a, 8x + b, 8x + (a ⊕ b))).
  const int32_t* lo_label;
  const int32_t* hi_label;
  Cost* total;  // [512]: index (8x + a)·8 + b
};

struct CosetKernels {
  // Fills job.total; returns the least of its 512 costs.
  double (*costs)(const CosetCostJob<double>& job);
  // Bit t % 64 of bits[t / 64]: whether total[t] ≤ bound, for the 512 costs of one half (the
  // decoder's candidates: usually one or two bits in all).
  void (*within)(const double* total, double bound, uint64_t* bits);
};

CosetKernels coset_kernels_scalar();
CosetKernels coset_kernels_avx2();
CosetKernels coset_kernels_avx512();
// The kernels of search_isa().
const CosetKernels& coset_kernels();

}  // namespace llvq::lattice
