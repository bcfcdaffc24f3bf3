// Per-input preparation of the exact search (ball_search_context.hpp): sorting, byte tables,
// codeword statistics, and the shared rows, built by the ISA-dispatched kernels.
#include "lattice/ball_search_context.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <vector>

#include "llvq/golay.hpp"

namespace llvq {

LeechBall::Context::Context(const float* in) : kernels(lattice::ball_kernels()) {
  for (int i = 0; i < kDim; ++i) {
    x[i] = in[i];
    sum_x += x[i];
    sum_abs += std::abs(x[i]);
    neg |= uint32_t{x[i] < 0} << i;
    order[i] = static_cast<uint8_t>(i);
  }
  std::sort(order.begin(), order.end(), [&](uint8_t a, uint8_t b) {
    const double fa = std::abs(x[a]), fb = std::abs(x[b]);
    return fa != fb ? fa > fb : a < b;
  });
  for (int r = 0; r < kDim; ++r) {
    rank_of[order[r]] = static_cast<uint8_t>(r);
    sorted_abs[r] = std::abs(x[order[r]]);
    abs_table[r] = sorted_abs[r];
    prefix[r + 1] = prefix[r] + sorted_abs[r];
  }
}

void LeechBall::Context::prepare_even() {
  if (even_ready) return;
  for (int k = 0; k < kChunks; ++k) {
    rank_mask[k][0] = 0;
    abs_sum[k][0] = 0;
    for (int b = 1; b < 256; ++b) {
      const int pos = 8 * k + std::countr_zero(static_cast<unsigned>(b));
      rank_mask[k][b] = rank_mask[k][b & (b - 1)] | (1u << rank_of[pos]);
      abs_sum[k][b] = abs_sum[k][b & (b - 1)] + std::abs(x[pos]);
    }
  }
  even_ready = true;
}

void LeechBall::Context::prepare_odd() {
  if (odd_ready) return;
  std::array<uint8_t, 2 * kDim> idx{};
  for (int e = 0; e < 2 * kDim; ++e) idx[e] = static_cast<uint8_t>(e);
  // Entry 2i is +x_i, entry 2i+1 is −x_i.
  auto value = [&](int e) { return (e & 1) ? -x[e >> 1] : x[e >> 1]; };
  std::sort(idx.begin(), idx.end(), [&](uint8_t a, uint8_t b) {
    const double va = value(a), vb = value(b);
    return va != vb ? va > vb : a < b;
  });
  std::array<uint8_t, 2 * kDim> rank{};
  for (int r = 0; r < 2 * kDim; ++r) {
    z[r] = value(idx[r]);
    z_pos[r] = idx[r] >> 1;
    z_plus[r] = (idx[r] & 1) == 0;
    rank[idx[r]] = static_cast<uint8_t>(r);
  }
  for (int k = 0; k < kChunks; ++k) {
    uint64_t none = 0;  // no position of the chunk in c: every y_i = −x_i
    for (int j = 0; j < 8; ++j) none |= uint64_t{1} << rank[2 * (8 * k + j) + 1];
    pick_mask[k][0] = none;
    x_sum[k][0] = 0;
    for (int b = 1; b < 256; ++b) {
      const int pos = 8 * k + std::countr_zero(static_cast<unsigned>(b));
      pick_mask[k][b] = pick_mask[k][b & (b - 1)] ^ (uint64_t{1} << rank[2 * pos]) ^
                        (uint64_t{1} << rank[2 * pos + 1]);
      x_sum[k][b] = x_sum[k][b & (b - 1)] + x[pos];
    }
  }
  const auto& words = golay::codewords();
  sum_y_max = -std::numeric_limits<double>::infinity();
  sum_y_min = std::numeric_limits<double>::infinity();
  for (size_t m = 0; m < words.size(); ++m) {
    const uint32_t w = words[m];
    sum_y[m] = 2 * (x_sum[0][w & 255] + x_sum[1][(w >> 8) & 255] + x_sum[2][w >> 16]) - sum_x;
    sum_y_float[m] = static_cast<float>(sum_y[m]);
    pick[m] = pick_mask[0][w & 255] | pick_mask[1][(w >> 8) & 255] | pick_mask[2][w >> 16];
    sum_y_max = std::max(sum_y_max, sum_y[m]);
    sum_y_min = std::min(sum_y_min, sum_y[m]);
  }
  odd_ready = true;
}

void LeechBall::Context::extend(int depth) {
  prepare_odd();
  if (depth <= top_rows) return;
  if (!rows) {
    thread_local std::vector<float> row_buffer(kTopRows * 4096);
    thread_local std::vector<uint64_t> rest_buffer(4096);
    thread_local std::vector<double> carry_buffer(4096);
    rows = row_buffer.data();
    top_rest = rest_buffer.data();
    top_carry = carry_buffer.data();
  }
  kernels.walk_rows({top_rows == 0 ? pick.data() : top_rest, top_rest, rows, top_carry, 4096, 4096, top_rows, depth,
                     true, z.data(), false});
  top_rows = depth;
}

void LeechBall::Context::prepare_weight(int w) {
  prepare_even();
  const int slot = weight_slot(w);
  if (weight_ready[slot]) return;
  const auto words = golay::codewords_of_weight(w);
  const size_t count = words.size(), padded = padded_count(count);
  if (!side_top[slot][0]) {
    // Per-thread buffers for all three weights: (w − 1) + (23 − w) rows, two masks and two
    // carries each.
    constexpr size_t kRows = kDim - 2, kPadded8 = 768, kPadded12 = kMaxWeightWords;
    static_assert(kPadded12 % 16 == 0);
    thread_local std::vector<float> row_buffer((2 * kPadded8 + kPadded12) * kRows);
    thread_local std::vector<uint64_t> rest_buffer(2 * (2 * kPadded8 + kPadded12));
    thread_local std::vector<double> carry_buffer(2 * (2 * kPadded8 + kPadded12));
    const size_t start = slot == 0 ? 0 : slot == 1 ? kPadded8 : kPadded8 + kPadded12;
    side_top[slot][0] = row_buffer.data() + start * kRows;
    side_top[slot][1] = side_top[slot][0] + (w - 1) * padded;
    side_rest[slot][0] = rest_buffer.data() + 2 * start;
    side_rest[slot][1] = side_rest[slot][0] + padded;
    side_carry[slot][0] = carry_buffer.data() + 2 * start;
    side_carry[slot][1] = side_carry[slot][0] + padded;
  }
  double hi = -std::numeric_limits<double>::infinity(), lo = std::numeric_limits<double>::infinity();
  for (size_t j = 0; j < padded; ++j) {
    if (j >= count) {
      on_abs[slot][j] = std::numeric_limits<double>::quiet_NaN();
      on_abs_float[slot][j] = std::numeric_limits<float>::quiet_NaN();
      on_rank_mask[slot][j] = 0;
      smallest_on[slot][j] = neg_parity[slot][j] = 0;
      side_rest[slot][0][j] = side_rest[slot][1][j] = 0;
      continue;
    }
    const uint32_t c = words[j];
    const double s = abs_sum[0][c & 255] + abs_sum[1][(c >> 8) & 255] + abs_sum[2][c >> 16];
    const uint32_t on = rank_mask[0][c & 255] | rank_mask[1][(c >> 8) & 255] | rank_mask[2][c >> 16];
    on_abs[slot][j] = s;
    on_abs_float[slot][j] = static_cast<float>(s);
    on_rank_mask[slot][j] = on;
    smallest_on[slot][j] = static_cast<float>(sorted_abs[31 - std::countl_zero(on)]);  // highest rank bit
    neg_parity[slot][j] = static_cast<float>(std::popcount(neg & c) & 1);
    side_rest[slot][0][j] = on;
    side_rest[slot][1][j] = ~on & 0xFFFFFFu;
    hi = std::max(hi, s);
    lo = std::min(lo, s);
  }
  on_abs_max[slot] = hi;
  on_abs_min[slot] = lo;
  weight_ready[slot] = true;
}

void LeechBall::Context::extend_weight(int w, int side, int depth) {
  prepare_weight(w);
  const int slot = weight_slot(w);
  int& done = top_done[slot][side];
  if (depth <= done) return;
  const size_t padded = padded_count(golay::codewords_of_weight(w).size());
  uint64_t* rest = side_rest[slot][side];
  kernels.walk_rows({rest, rest, side_top[slot][side], side_carry[slot][side], padded, padded, done, depth, true,
                     abs_table.data(), true});
  done = depth;
}

}  // namespace llvq
