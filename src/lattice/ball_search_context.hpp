// Per-input state of LeechBall's exact search (ball_search.cpp): the sorted input, the
// per-codeword statistics and masks, and the rows of partial sums T_t shared by all classes
// of one search (docs/lattice.md "Exact search"). Everything here feeds the scans' float
// filter; exact values are recomputed per codeword from x (ball_search.cpp).
#pragma once

#include <array>
#include <cstdint>

#include "lattice/ball_kernels.hpp"
#include "llvq/leech_ball.hpp"

namespace llvq {

struct LeechBall::Context {
  static constexpr int kDim = leech::kDim;
  static constexpr int kWeights = 3;               // even codeword weights 8, 12, 16
  static constexpr size_t kMaxWeightWords = 2576;  // codewords of weight 12 (8 and 16: 759)

  const lattice::BallKernels& kernels;
  // x = in·2^exponent with Σ|x| in [1, 2) (exponent 0 for a zero input): exact in double, so
  // every double of the search is the unnormalised one times a power of two, and the float
  // filters neither overflow nor underflow.
  int exponent = 0;
  std::array<double, kDim> x{};
  std::array<double, kDim> abs_x{};
  std::array<double, kDim> sorted_abs{};  // |x| in decreasing order
  std::array<uint8_t, kDim> order{};      // positions in that order
  std::array<uint8_t, kDim> rank_of{};    // inverse of order
  std::array<double, kDim + 1> prefix{};  // prefix sums of sorted_abs
  std::array<double, lattice::kTableSize> abs_table{};       // sorted_abs, zero-padded
  std::array<float, lattice::kTableSize> abs_table_float{};  // the same in float
  uint32_t neg = 0;
  double sum_x = 0, sum_abs = 0;

  // Odd classes: the 48 values ±x_i in decreasing order (z), where entry 2i (+x_i) and
  // 2i + 1 (−x_i) went (z_rank), and what each rank holds. A codeword's pick mask has the bit
  // of the entry y_i = η_i x_i of every position (η_i = +1 on the codeword), split into ranks
  // 0..23 (pick_lo) and 24..47 (pick_hi).
  bool odd_ready = false;
  std::array<double, lattice::kTableSize> z{};  // zero-padded
  std::array<float, lattice::kTableSize> z_float{};
  std::array<uint8_t, 2 * kDim> z_rank{};
  std::array<uint8_t, 2 * kDim> z_pos{};
  std::array<bool, 2 * kDim> z_plus{};
  // Per-codeword arrays follow the coset order of golay_cosets.hpp.
  // Σ y = 2·Σ_c x − Σ x of every codeword in float, within sum_y_slack of the exact value.
  // Statistics are computed only for the 16-codeword steps a scan visits (odd_stats_done: 1
  // once done), from tables built once (odd_job holds the inputs).
  std::array<float, 4096> sum_y_float;
  std::array<uint32_t, 4096> pick_lo, pick_hi;
  double sum_y_slack = 0;
  std::array<float, kDim> odd_value{};
  std::array<uint32_t, kDim> toggle_lo{}, toggle_hi{};
  lattice::CodewordStats odd_job{};
  lattice::StatsTables odd_tables;
  // Rows shared by all odd classes of the search, built on demand: row(t − 1) = T_t, the sum
  // of the t largest y of every codeword, t ≤ kTopRows. The complement of item j is item
  // j ^ 31, with every y negated: the sum of the u smallest y of j is −T_u(j ^ 31), and a
  // class cut at t > kTopRows uses T_t = Σy − (sum of its 24 − t smallest) from the same rows
  // read mirrored.
  // Per-thread buffers (too large for the stack); `rest` keeps the walk's remaining pick bits
  // so that deeper rows extend it. Rows are walked only for the 16-item steps a scan visits
  // (coset pruning leaves a few percent of them): odd_done holds each step's depth.
  static constexpr int kTopRows = 12;
  static constexpr int kSteps = 4096 / 16;
  std::array<uint8_t, kSteps> odd_stats_done{}, odd_done{};
  float* rows = nullptr;
  uint32_t* rest_lo = nullptr;
  uint32_t* rest_hi = nullptr;

  // Even classes of weight 8, 12, 16 (slot 0, 1, 2), arrays padded to a multiple of sixteen
  // codewords: Σ_c |x| in float (within on_abs_slack of the exact value; NaN in the padding,
  // which no interval test accepts), the rank masks on and off the codeword, the smallest |x|
  // on it and the parity of x's minus signs on it (0.0 or 1.0).
  std::array<bool, kWeights> weight_ready{};
  // Statistics per step, as for the odd ones; the tables (|x| and rank bits) serve every weight.
  bool even_tables_ready = false;
  std::array<float, kDim> abs_float{};
  std::array<uint32_t, kDim> rank_bit{};
  lattice::StatsTables even_tables;
  std::array<lattice::CodewordStats, kWeights> weight_job{};
  std::array<std::array<uint8_t, kMaxWeightWords / 16>, kWeights> weight_stats_done{};
  std::array<std::array<float, kMaxWeightWords>, kWeights> on_abs_float;
  std::array<std::array<uint32_t, kMaxWeightWords>, kWeights> on_rank_mask, off_rank_mask;
  std::array<std::array<float, kMaxWeightWords>, kWeights> smallest_on;
  std::array<std::array<float, kMaxWeightWords>, kWeights> neg_parity;
  double on_abs_slack = 0;
  // Per weight, built on demand: on rows t = 1..w−1 (sum of the t largest |x| on the
  // codeword) and off rows t = 1..23−w (same off it), row-major [t − 1][codeword], stride
  // padded_count(w); `rest` keeps each walk's remaining bits so that deeper rows extend it.
  std::array<std::array<std::array<uint8_t, kMaxWeightWords / 16>, 2>, kWeights> weight_done{};
  std::array<std::array<float*, 2>, kWeights> side_top{};
  std::array<std::array<uint32_t*, 2>, kWeights> side_rest{};

  explicit Context(const float* in);
  void prepare_odd();
  // Statistics (sum_y_float, pick masks) of the steps set in `steps` that lack them.
  void odd_stats(const uint64_t* steps);
  // Extends the odd rows of the steps set in `steps` (Scan::steps) to `depth`, walking the
  // lowest ranks (largest y) of their pick masks.
  void extend(int depth, const uint64_t* steps);
  // Buffers and tables for the codewords of weight w ∈ {8, 12, 16}; weight_stats fills Σ_c |x|,
  // the rank masks and parities of the steps set in `steps` that lack them.
  void prepare_weight(int w);
  void weight_stats(int w, const uint64_t* steps);
  // Extends the rows of one side (0: on the codeword, 1: off it) of weight w to `depth` in
  // the steps set in `steps`.
  void extend_weight(int w, int side, int depth, const uint64_t* steps);

  const float* row(int r) const { return rows + static_cast<size_t>(r) * 4096; }
  static int weight_slot(int w) { return w == 8 ? 0 : w == 12 ? 1 : 2; }
  static size_t padded_count(size_t n) { return (n + 15) / 16 * 16; }
};

}  // namespace llvq
