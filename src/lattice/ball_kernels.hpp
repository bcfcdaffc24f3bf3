// The inner loops of the exact Λ24(M) search (ball_search.cpp), one set per ISA level:
// ball_kernels.cpp (scalar reference), ball_kernels_avx2.cpp, ball_kernels_avx512.cpp. All
// three run the loop bodies of ball_kernels_impl.hpp over a per-ISA traits type, with the
// same floating-point operations in the same order (explicit fused multiply-adds), so every
// level returns bit-identical values and therefore identical search results.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lattice/search_isa.hpp"

namespace llvq::lattice {

// Lookup tables for the row walks hold this many entries (zero-padded); indices are taken
// modulo the table length, so a lane whose mask ran empty (only padding items' masks do)
// still reads inside the table. Walks over rank masks of
// 24 bits use only the first kShortTable entries, which the AVX-512 lookup exploits.
constexpr int kTableSize = 64;
constexpr int kShortTable = 32;

// Cumulative sums along bit walks: for every item j < count, starting from masks_in[j], rows
// done..depth−1 get row[t][j] = row[t−1][j] + values[r_t], r_t the lowest set bit (from_top)
// or the highest (otherwise) of what is left; masks_out[j] keeps the rest. The sums are exact
// doubles; the rows store them rounded to float (the scan's filter reads half the bytes) and
// carry[j] keeps the double at depth `done` (read when done > 0, written at the end) so that a
// later walk extends the exact sum. Row t lives at rows + t·stride. count is padded to a
// multiple of 16 by the caller (padding masks are 0).
struct RowWalk {
  const uint64_t* masks_in;
  uint64_t* masks_out;
  float* rows;
  double* carry;
  size_t stride, count;
  int done, depth;
  bool from_top;
  const double* values;  // kTableSize entries
  bool short_table;      // masks use bits < kShortTable only
};

// Best of `count` items with statistic s[j] in [lo, hi] (others are skipped) of the exact
// double value that `exact(exact_ctx, j)` returns (−inf for an item whose exact statistic lies
// outside [lo, hi]). The kernels filter in float first:
//   base(j) + Σ_k coef[k]·rows[k][j] (fused multiply-adds in k order, float rows)
// Odd: base = sum_coef·s. Even: base = on_last·s + off_last·(total − s), minus
// penalty·smallest[j] where parity[j] (0 or 1) differs from want_parity.
// `margin` bounds |float value − exact value| (the caller derives it from the coefficients
// and Σ|x|); an item is evaluated exactly only when its float value reaches
// max(best so far, floor) − margin, so items below `floor` (the caller's pruning level, which
// it has already lowered by its own slack) may be skipped. The float statistic test is a
// superset of the exact one (rounding is monotone). Every item whose exact value beats the
// best so far is evaluated exactly, in index order, so the result equals that of an exact
// scan of all items.
//
// A row whose bit in `reversed` is set is read backwards: item j takes rows[k][count − 1 − j]
// (the odd classes' sums of the smallest entries of codeword m are the negated sums of the
// largest of its complement, message 4095 − m).
struct Scan {
  const float* stat;
  const float* const* rows;
  const double* coef;
  int nrows;
  uint64_t reversed;
  size_t count;  // a multiple of 16
  double lo, hi;
  bool even;
  double sum_coef;                  // odd
  double on_last, off_last, total;  // even
  double penalty, want_parity;      // even
  const float* smallest;            // even
  const float* parity;              // even
  double floor, margin;
  double (*exact)(const void* exact_ctx, uint32_t j);
  const void* exact_ctx;
};

// Ties keep the smallest index, as a scalar scan with a strict comparison would. An empty
// result has value −inf.
struct ScanBest {
  double value;
  uint32_t index;
};

struct BallKernels {
  void (*walk_rows)(const RowWalk& job);
  ScanBest (*scan)(const Scan& job);
};

BallKernels ball_kernels_scalar();
BallKernels ball_kernels_avx2();
BallKernels ball_kernels_avx512();
// The kernels of search_isa().
const BallKernels& ball_kernels();

}  // namespace llvq::lattice
