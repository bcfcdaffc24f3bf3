// The inner loops of the exact Λ24(M) search (ball_search.cpp), one set per ISA level:
// ball_kernels.cpp (scalar reference), ball_kernels_avx2.cpp, ball_kernels_avx512.cpp. All
// three run the loop bodies of ball_kernels_impl.hpp over a per-ISA traits type. Their float
// sums may round differently per level (codeword statistics add positions in groups of the
// level's lookup width), but floats only choose which codewords the scans evaluate exactly,
// in double, by code shared by all levels, so every level returns identical search results.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "lattice/search_isa.hpp"

namespace llvq::lattice {

// Bit masks over the ranks of a search's sorted values are kept in 32-bit lanes of 24 bits: the
// 24 ranks of |x| (even classes), or the 48 ranks of ±x_i as two halves, ranks 0..23 (the
// positive entries) and 24..47 (the negative ones). Lookup tables hold kTableSize floats
// (zero-padded): entry r for bit r of the low half, 24 + r for bit r of the high half.
constexpr int kTableSize = 64;
constexpr int kHalfBits = 24;

// Cumulative sums along bit walks, in float (the rows only feed the scans' filter, whose
// margin covers their rounding): for every item j < count, starting from the masks lo_in[j]
// (and hi_in[j] when two_halves), rows done..depth−1 get row[t][j] = row[t−1][j] + values[r_t],
// r_t the lowest rank left (low half first); lo_out / hi_out keep the rest. Row t lives at
// rows + t·stride; row done−1 must hold the previous sums when done > 0. count is a multiple
// of 16 (padding masks are 0).
struct RowWalk {
  const uint32_t* lo_in;
  const uint32_t* hi_in;
  uint32_t* lo_out;
  uint32_t* hi_out;
  float* rows;
  size_t stride, count;
  int done, depth;
  bool two_halves;
  const float* values;  // kTableSize entries
};

// Per-codeword statistics of the codewords words[j], first ≤ j < first + count (first and count
// multiples of 16): sum[j] = scale·Σ_{i ∈ word} value[i] + offset in float, and the masks
// lo[j] = lo_base ^ OR_{i ∈ word} lo_bits[i], hi[j] likewise (hi optional). The float sums
// differ from exact ones by at most kSumSlack·(|scale|·Σ|value| + |offset|) (a few roundings
// of at most 26 terms).
// With `rank_value` (even classes, lo = a rank mask): also lo_complement[j] = the 24 bits
// not in lo[j], last[j] = rank_value[highest rank in lo[j]] and parity[j] = (number of
// positions i ∈ word with odd_bits bit i set) mod 2, as 0.0f or 1.0f.
// The per-position inputs go through StatsTables, built once per job by stats_tables; the
// ranges then cost a few lookups per codeword.
constexpr double kSumSlack = 0x1p-18;
struct CodewordStats {
  const uint32_t* words;
  size_t first, count;
  const float* value;  // 24 entries
  float scale, offset;
  const uint32_t* lo_bits;  // 24 entries
  const uint32_t* hi_bits;  // 24 entries, or null
  uint32_t lo_base, hi_base;
  float* sum;
  uint32_t* lo;
  uint32_t* hi;  // null when hi_bits is
  const float* rank_value = nullptr;  // 32 entries, or null
  uint32_t odd_bits = 0;
  uint32_t* lo_complement = nullptr;
  float* last = nullptr;
  float* parity = nullptr;
};
// The statistics' lookup tables: per group of a level's kGroupBits positions, the subset sum
// and masks of every pattern, entry g·2^kGroupBits + pattern (sized for the scalar level's 3
// groups of 256).
struct StatsTables {
  static constexpr int kEntries = 3 * 256;
  alignas(64) std::array<float, kEntries> sum;
  alignas(64) std::array<uint32_t, kEntries> lo, hi, parity;
};

// Best of the items in the live steps of `count` items (a step is 16 items; bit s of
// steps[s / 64] marks step s live) with statistic s[j] in [lo, hi] (others are skipped) of the
// exact double value that `exact(exact_ctx, j)` returns (−inf for an item whose exact statistic
// lies outside [lo, hi]). The kernels filter in float first:
//   base(j) + Σ_k coef[k]·rows[k][j] (fused multiply-adds in k order, float rows)
// Odd: base = sum_coef·s. Even: base = on_last·s + off_last·(total − s), minus
// penalty·smallest[j] where parity[j] (0 or 1) differs from want_parity.
// `margin` bounds |float value − exact value| (the caller derives it from the coefficients
// and Σ|x|); an item is evaluated exactly only when its float value reaches
// max(best so far, floor) − margin, so items below `floor` (the caller's pruning level, which
// it has already lowered by its own slack) may be skipped. The float statistic test is a
// superset of the exact one (rounding is monotone, and the interval is widened by
// stat_slack). Every item of a live step whose exact value reaches the best so far is
// evaluated exactly; ties keep the smallest canonical[j], so the result equals that of an
// exact scan of the live items in canonical order.
//
// A row whose bit in `reversed` is set is read mirrored within its 32-item coset: item j takes
// rows[k][j ^ 31] (the odd classes' sums of the smallest entries of a codeword are the negated
// sums of the largest of its complement, item j ^ 31 in the coset order of golay_cosets.hpp).
struct Scan {
  const float* stat;
  double stat_slack;  // bound on |stat[j] − exact statistic| (0: stat[j] is the exact one rounded)
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
  const uint64_t* steps;       // count / 16 bits
  const uint16_t* canonical;  // count entries
};

// An empty result has value −inf.
struct ScanBest {
  double value;
  uint32_t index;
};

// Coset pruning (golay_cosets.hpp): for each of the `count` (128) cosets g, with u_k the entry of
// column[k] (8 floats per column, stride 16) at tetrad k's canonical pattern in pattern[g],
//   bound(g) = Σ_k |u_k| − 2·min_k |u_k| when the number of negative u_k and the pattern's
//   bit 31 differ in parity, else Σ_k |u_k|,
// and bit g of live[g / 32] is set when bound(g) ≥ level (live has count / 32 words);
// bound[g] = bound(g) when bound is not null.
struct CosetBounds {
  const float* column;
  const uint32_t* pattern;
  int count;
  float level;
  uint32_t* live;
  float* bound;
};

struct BallKernels {
  void (*walk_rows)(const RowWalk& job);
  void (*stats_tables)(const CodewordStats& job, StatsTables& tables);
  void (*codeword_stats)(const CodewordStats& job, const StatsTables& tables);
  ScanBest (*scan)(const Scan& job);
  void (*coset_bounds)(const CosetBounds& job);
};

BallKernels ball_kernels_scalar();
BallKernels ball_kernels_avx2();
BallKernels ball_kernels_avx512();
// The kernels of search_isa().
const BallKernels& ball_kernels();

}  // namespace llvq::lattice
