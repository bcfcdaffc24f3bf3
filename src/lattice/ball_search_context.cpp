// Per-input preparation of the exact search (ball_search_context.hpp): sorting, codeword
// statistics and the shared rows, built by the ISA-dispatched kernels.
#include "lattice/ball_search_context.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <vector>

#include "lattice/golay_cosets.hpp"
#include "llvq/golay.hpp"

namespace llvq {

LeechBall::Context::Context(const float* in) : kernels(lattice::ball_kernels()) {
  double in_abs = 0;
  for (int i = 0; i < kDim; ++i) in_abs += std::abs(static_cast<double>(in[i]));
  exponent = in_abs > 0 ? -std::ilogb(in_abs) : 0;
  for (int i = 0; i < kDim; ++i) {
    x[i] = std::ldexp(static_cast<double>(in[i]), exponent);
    abs_x[i] = std::abs(x[i]);
    sum_x += x[i];
    sum_abs += abs_x[i];
    neg |= uint32_t{x[i] < 0} << i;
    order[i] = static_cast<uint8_t>(i);
  }
  std::sort(order.begin(), order.end(), [&](uint8_t a, uint8_t b) {
    return abs_x[a] != abs_x[b] ? abs_x[a] > abs_x[b] : a < b;
  });
  for (int r = 0; r < kDim; ++r) {
    rank_of[order[r]] = static_cast<uint8_t>(r);
    sorted_abs[r] = abs_x[order[r]];
    abs_table[r] = sorted_abs[r];
    abs_table_float[r] = static_cast<float>(sorted_abs[r]);
    prefix[r + 1] = prefix[r] + sorted_abs[r];
  }
}

void LeechBall::Context::prepare_odd() {
  if (odd_ready) return;
  thread_local std::vector<float> row_buffer(kTopRows * 4096);
  thread_local std::vector<uint32_t> rest_buffer(2 * 4096);
  rows = row_buffer.data();
  rest_lo = rest_buffer.data();
  rest_hi = rest_lo + 4096;
  // Entry 2i is +x_i, entry 2i+1 is −x_i, in decreasing order of value, ties by entry: read
  // off the |x| order (ties there by position, so by entry too) instead of sorting 48 values.
  // First the positive member of every non-zero x_i by decreasing |x_i|; then both entries of
  // every zero, by entry; then the negative members by increasing |x_i|, that is `order`'s
  // runs of equal |x| backwards, each run forwards.
  auto value = [&](int e) { return (e & 1) ? -x[e >> 1] : x[e >> 1]; };
  std::array<uint8_t, 2 * kDim> idx{};
  int nonzero = 0;
  while (nonzero < kDim && sorted_abs[nonzero] > 0) ++nonzero;
  int n = 0;
  for (int r = 0; r < nonzero; ++r) idx[n++] = static_cast<uint8_t>(2 * order[r] + (x[order[r]] < 0));
  for (int r = nonzero; r < kDim; ++r) {
    idx[n++] = static_cast<uint8_t>(2 * order[r]);
    idx[n++] = static_cast<uint8_t>(2 * order[r] + 1);
  }
  for (int end = nonzero; end > 0;) {
    int begin = end - 1;
    while (begin > 0 && sorted_abs[begin - 1] == sorted_abs[end - 1]) --begin;
    for (int r = begin; r < end; ++r) idx[n++] = static_cast<uint8_t>(2 * order[r] + (x[order[r]] > 0));
    end = begin;
  }
  for (int r = 0; r < 2 * kDim; ++r) {
    z[r] = value(idx[r]);
    z_float[r] = static_cast<float>(z[r]);
    z_pos[r] = idx[r] >> 1;
    z_plus[r] = (idx[r] & 1) == 0;
    z_rank[idx[r]] = static_cast<uint8_t>(r);
  }
  // Without the codeword every position picks −x_i; a position on it toggles to +x_i.
  auto split = [](int r, uint32_t& lo, uint32_t& hi) {
    (r < lattice::kHalfBits ? lo : hi) |= uint32_t{1} << (r % lattice::kHalfBits);
  };
  uint32_t base_lo = 0, base_hi = 0;
  for (int i = 0; i < kDim; ++i) {
    odd_value[i] = static_cast<float>(x[i]);
    split(z_rank[2 * i + 1], base_lo, base_hi);
    split(z_rank[2 * i], toggle_lo[i], toggle_hi[i]);
    split(z_rank[2 * i + 1], toggle_lo[i], toggle_hi[i]);
  }
  odd_job = {lattice::golay_cosets().words.data(), 0, 0, odd_value.data(), 2.0f, static_cast<float>(-sum_x),
             toggle_lo.data(), toggle_hi.data(), base_lo, base_hi, sum_y_float.data(), pick_lo.data(), pick_hi.data()};
  kernels.stats_tables(odd_job, odd_tables);
  sum_y_slack = lattice::kSumSlack * (2 * sum_abs + std::abs(sum_x));
  odd_ready = true;
}

namespace {

// Calls walk(first, count, done) for every run of consecutive steps set in `steps` (of
// `nsteps`) whose depth `done[s]` is below `depth` and equal along the run, then records
// `depth` for them (depth 1 with done ∈ {0, 1}: work done once per step).
template <class Walk>
void walk_steps(const uint64_t* steps, size_t nsteps, uint8_t* done, int depth, Walk walk) {
  constexpr size_t kStep = 16;
  auto live = [&](size_t s) { return s < nsteps && ((steps[s / 64] >> (s % 64)) & 1); };
  for (size_t word = 0; word * 64 < nsteps; ++word) {
    uint64_t bits = steps[word];
    while (bits) {
      const size_t s = word * 64 + std::countr_zero(bits);
      size_t end = s + 1;
      while (live(end) && done[end] == done[s]) ++end;
      if (done[s] < depth) {
        walk(s * kStep, (end - s) * kStep, done[s]);
        std::fill(done + s, done + end, static_cast<uint8_t>(depth));
      }
      // Clear the run's bits in this word (a run may continue into the next word, whose
      // steps then start a run of their own).
      const size_t word_end = std::min(end, (word + 1) * 64);
      bits &= word_end - word * 64 == 64 ? 0 : ~uint64_t{0} << (word_end - word * 64);
    }
  }
}

}  // namespace

void LeechBall::Context::odd_stats(const uint64_t* steps) {
  prepare_odd();
  walk_steps(steps, kSteps, odd_stats_done.data(), 1, [&](size_t first, size_t count, int) {
    lattice::CodewordStats job = odd_job;
    job.first = first, job.count = count;
    kernels.codeword_stats(job, odd_tables);
  });
}

void LeechBall::Context::extend(int depth, const uint64_t* steps) {
  odd_stats(steps);
  walk_steps(steps, kSteps, odd_done.data(), depth, [&](size_t first, size_t count, int done) {
    const bool fresh = done == 0;
    kernels.walk_rows({(fresh ? pick_lo.data() : rest_lo) + first, (fresh ? pick_hi.data() : rest_hi) + first,
                       rest_lo + first, rest_hi + first, rows + first, 4096, count, done, depth, true, z_float.data()});
  });
}

void LeechBall::Context::prepare_weight(int w) {
  const int slot = weight_slot(w);
  if (weight_ready[slot]) return;
  const auto words = golay::codewords_of_weight(w);
  const size_t count = words.size(), padded = padded_count(count);
  if (!side_top[slot][0]) {
    // Per-thread buffers for all three weights: (w − 1) + (23 − w) rows, two masks each, and
    // the codewords padded with zero words.
    constexpr size_t kRows = kDim - 2, kPadded8 = 768, kPadded12 = kMaxWeightWords;
    static_assert(kPadded12 % 16 == 0);
    thread_local std::vector<float> row_buffer((2 * kPadded8 + kPadded12) * kRows);
    thread_local std::vector<uint32_t> rest_buffer(2 * (2 * kPadded8 + kPadded12));
    const size_t start = slot == 0 ? 0 : slot == 1 ? kPadded8 : kPadded8 + kPadded12;
    side_top[slot][0] = row_buffer.data() + start * kRows;
    side_top[slot][1] = side_top[slot][0] + (w - 1) * padded;
    side_rest[slot][0] = rest_buffer.data() + 2 * start;
    side_rest[slot][1] = side_rest[slot][0] + padded;
  }
  static const auto padded_words = [] {
    std::array<std::vector<uint32_t>, kWeights> out;
    for (int slot = 0; slot < kWeights; ++slot) {
      out[slot] = lattice::golay_cosets().weight_words[slot];
      out[slot].resize(padded_count(out[slot].size()), 0);
    }
    return out;
  }();
  if (!even_tables_ready) {
    for (int i = 0; i < kDim; ++i) {
      abs_float[i] = static_cast<float>(abs_x[i]);
      rank_bit[i] = uint32_t{1} << rank_of[i];
    }
    lattice::CodewordStats tables_job{};
    tables_job.value = abs_float.data();
    tables_job.lo_bits = rank_bit.data();
    tables_job.odd_bits = neg;
    kernels.stats_tables(tables_job, even_tables);
    on_abs_slack = lattice::kSumSlack * sum_abs;
    even_tables_ready = true;
  }
  lattice::CodewordStats& job = weight_job[slot];
  job = {padded_words[slot].data(), 0, 0, abs_float.data(), 1.0f, 0.0f, rank_bit.data(), nullptr,
         0, 0, on_abs_float[slot].data(), on_rank_mask[slot].data(), nullptr};
  job.rank_value = abs_table_float.data();
  job.odd_bits = neg;
  job.lo_complement = off_rank_mask[slot].data();
  job.last = smallest_on[slot].data();
  job.parity = neg_parity[slot].data();
  weight_ready[slot] = true;
}

void LeechBall::Context::weight_stats(int w, const uint64_t* steps) {
  prepare_weight(w);
  const int slot = weight_slot(w);
  const size_t count = golay::codewords_of_weight(w).size();
  walk_steps(steps, padded_count(count) / 16, weight_stats_done[slot].data(), 1, [&](size_t first, size_t n, int) {
    lattice::CodewordStats job = weight_job[slot];
    job.first = first, job.count = n;
    kernels.codeword_stats(job, even_tables);
    // Padding words: NaN statistics, which no interval test accepts, and empty masks.
    for (size_t j = std::max(first, count); j < first + n; ++j) {
      on_abs_float[slot][j] = std::numeric_limits<float>::quiet_NaN();
      off_rank_mask[slot][j] = 0;
    }
  });
}

void LeechBall::Context::extend_weight(int w, int side, int depth, const uint64_t* steps) {
  weight_stats(w, steps);
  const int slot = weight_slot(w);
  const size_t padded = padded_count(golay::codewords_of_weight(w).size());
  uint32_t* rest = side_rest[slot][side];
  const uint32_t* masks = side == 0 ? on_rank_mask[slot].data() : off_rank_mask[slot].data();
  walk_steps(steps, padded / 16, weight_done[slot][side].data(), depth, [&](size_t first, size_t count, int done) {
    kernels.walk_rows({(done > 0 ? rest : masks) + first, nullptr, rest + first, nullptr, side_top[slot][side] + first,
                       padded, count, done, depth, false, abs_table_float.data()});
  });
}

}  // namespace llvq
