// Per-input state of LeechBall's exact search (ball_search.cpp): the sorted input, the byte
// tables that turn a Golay codeword into a rank mask, and the rows of partial sums T_t shared
// by all classes of one search (docs/lattice.md "Exact search").
#pragma once

#include <array>
#include <cstdint>

#include "lattice/ball_kernels.hpp"
#include "llvq/leech_ball.hpp"

namespace llvq {

struct LeechBall::Context {
  static constexpr int kDim = leech::kDim;
  static constexpr int kChunks = 3;
  static constexpr int kWeights = 3;         // even codeword weights 8, 12, 16
  static constexpr size_t kMaxWeightWords = 2576;  // codewords of weight 12 (8 and 16: 759)

  const lattice::BallKernels& kernels;
  std::array<double, kDim> x{};
  std::array<double, kDim> sorted_abs{};  // |x| in decreasing order
  std::array<uint8_t, kDim> order{};      // positions in that order
  std::array<uint8_t, kDim> rank_of{};    // inverse of order
  std::array<double, kDim + 1> prefix{};  // prefix sums of sorted_abs
  std::array<double, lattice::kTableSize> abs_table{};  // sorted_abs, zero-padded
  uint32_t neg = 0;
  double sum_x = 0, sum_abs = 0;

  // Even classes: per byte of a codeword, the rank mask of its positions and Σ|x| on them.
  bool even_ready = false;
  std::array<std::array<uint32_t, 256>, kChunks> rank_mask;
  std::array<std::array<double, 256>, kChunks> abs_sum;

  // Odd classes: the 48 values ±x_i in decreasing order; per byte of a codeword, the mask of
  // the entries y_i = η_i x_i picks, and Σ x_i on its positions.
  bool odd_ready = false;
  std::array<double, lattice::kTableSize> z{};  // zero-padded
  std::array<uint8_t, 2 * kDim> z_pos{};
  std::array<bool, 2 * kDim> z_plus{};
  std::array<std::array<uint64_t, 256>, kChunks> pick_mask;
  std::array<std::array<double, 256>, kChunks> x_sum;
  // Σ y = 2·Σ_c x − Σ x for every codeword (by message; exact, and rounded to float for the
  // scans), and its extremes.
  std::array<double, 4096> sum_y;
  std::array<float, 4096> sum_y_float;
  std::array<uint64_t, 4096> pick;  // pick mask of every codeword
  // Rows shared by all odd classes of the search, built on demand: row(t − 1) = T_t, the sum
  // of the t largest y of every codeword, t ≤ kTopRows. The Golay code holds the all-ones
  // word, whose message is all ones, so codeword m's complement is codeword 4095 − m with
  // every y negated: the sum of the u smallest y of m is −T_u(4095 − m), and a class cut at
  // t > kTopRows uses T_t = Σy − (sum of its 24 − t smallest) from the same rows read backwards.
  // The rows hold the sums rounded to float, for the scans' filter; exact values are walked
  // again for the few codewords that pass it. Per-thread buffers (too large for the stack);
  // `rest` keeps the walk's remaining pick bits and `carry` its exact sum, so that deeper rows
  // extend it.
  static constexpr int kTopRows = 12;
  int top_rows = 0;
  float* rows = nullptr;
  uint64_t* top_rest = nullptr;
  double* top_carry = nullptr;
  double sum_y_max = 0, sum_y_min = 0;

  // Even classes of weight 8, 12, 16 (slot 0, 1, 2), arrays padded to a multiple of sixteen
  // codewords: Σ_c |x| (exact, and rounded to float with NaN in the padding, which no interval
  // test accepts), the rank mask of the codeword, and for the scans the smallest |x| on the
  // codeword and the parity of x's minus signs on it (0.0 or 1.0); the extremes of Σ_c |x|.
  std::array<bool, kWeights> weight_ready{};
  std::array<std::array<double, kMaxWeightWords>, kWeights> on_abs;
  std::array<std::array<float, kMaxWeightWords>, kWeights> on_abs_float;
  std::array<std::array<uint32_t, kMaxWeightWords>, kWeights> on_rank_mask;
  std::array<std::array<float, kMaxWeightWords>, kWeights> smallest_on;
  std::array<std::array<float, kMaxWeightWords>, kWeights> neg_parity;
  std::array<double, kWeights> on_abs_max{}, on_abs_min{};
  // Per weight, built on demand: on rows t = 1..w−1 (sum of the t largest |x| on the
  // codeword) and off rows t = 1..23−w (same off it), row-major [t − 1][codeword], stride
  // padded_count(w), rounded to float as the odd rows are; `rest` starts as the rank masks on
  // / off the codeword and with `carry` lets deeper rows extend each walk.
  std::array<std::array<int, 2>, kWeights> top_done{};
  std::array<std::array<float*, 2>, kWeights> side_top{};
  std::array<std::array<uint64_t*, 2>, kWeights> side_rest{};
  std::array<std::array<double*, 2>, kWeights> side_carry{};

  explicit Context(const float* in);
  void prepare_even();
  void prepare_odd();
  // Extends the odd rows to `depth`, walking the lowest set bits (largest y) of every pick mask.
  void extend(int depth);
  // Σ_c |x|, rank masks and parities over the codewords of weight w ∈ {8, 12, 16}.
  void prepare_weight(int w);
  // Extends the rows of one side (0: on the codeword, 1: off it) of weight w to `depth`.
  void extend_weight(int w, int side, int depth);

  const float* row(int r) const { return rows + static_cast<size_t>(r) * 4096; }
  static int weight_slot(int w) { return w == 8 ? 0 : w == 12 ? 1 : 2; }
  static size_t padded_count(size_t n) { return (n + 15) / 16 * 16; }
};

}  // namespace llvq
