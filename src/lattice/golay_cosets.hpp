// The Golay code split into the 128 cosets of a 32-word subcode, for the exact search's coset
// pruning (docs/lattice.md "Coset pruning").
//
// Four positions determine a sextet: six disjoint tetrads, any two of which form an octad. The
// unions of an even number of tetrads are 32 codewords (a subcode S), and the code splits into
// 128 cosets of S. Within a coset, a codeword is the coset's representative with an even number
// of tetrads complemented, so the maximum over a coset of any function that is linear in the
// codeword's bits is found column by column: the better of each tetrad's pattern and its
// complement, and, when that choice complements an odd number of tetrads, the cheapest column
// switched back. A tetrad's pattern is stored canonically (its first position clear: 8 patterns)
// with a flag for whether the representative holds the complement.
//
// The search's arrays follow a coset-major order so that a coset is a contiguous run:
//  * all 4096 codewords (odd classes): coset g holds items 32g..32g+31, and the complement of
//    item j is item j ^ 31 (complementing every tetrad keeps the coset);
//  * the codewords of weight 8, 12, 16 (even classes): coset by coset, offsets per coset.
// Each item keeps its index in the canonical order (message, or position in
// golay::codewords_of_weight) so that the scans break ties exactly as before.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace llvq::lattice {

struct GolayCosets {
  static constexpr int kCosets = 128, kColumns = 6, kCosetSize = 32;
  // Positions of the six tetrads, each in increasing order; tetrad 0 is positions 0..3.
  std::array<std::array<uint8_t, 4>, kColumns> tetrad{};
  // Per coset: bits 3k..3k+2 hold tetrad k's canonical pattern (bit b: tetrad position b + 1),
  // bit 31 the parity of the representative's complemented tetrads.
  std::array<uint32_t, kCosets> pattern{};
  // All codewords in coset order, and each one's message.
  std::array<uint32_t, 4096> words{};
  std::array<uint16_t, 4096> message{};
  // Codewords of weight 8, 12, 16 (slot 0, 1, 2) in coset order, each one's position in
  // golay::codewords_of_weight, and where each coset's run starts (kCosets + 1 entries).
  std::array<std::vector<uint32_t>, 3> weight_words;
  std::array<std::vector<uint16_t>, 3> weight_position;
  std::array<std::array<uint16_t, kCosets + 1>, 3> weight_start{};
};

// Built once, on first use.
const GolayCosets& golay_cosets();

// The column tables of the coset_bounds kernel (ball_kernels.hpp) for the function
// Σ_{i on the codeword} gain[i]: column[16k + p] = (sum of gain over tetrad k's canonical pattern p)
// − half of tetrad k's total, in float. Returns the sum of the halves, to which the kernel's
// bound(g) adds to give the coset's maximum, and sets `scale` to Σ|gain| (which bounds the
// float error of the kernel's sum: see ball_search.cpp).
double coset_columns(const double* gain, float* column, double& scale);

}  // namespace llvq::lattice
