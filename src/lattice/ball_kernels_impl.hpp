// Loop bodies of the search kernels, written once over a traits type T (ball_kernels.hpp):
//   T::kFloats lanes of T::F (floats) and T::U (32-bit unsigned integers), T::M a lane
//   condition; loadf/storef/set1f/zerof/addf/subf/mulf/fmaf/absf, loadf_reversed (lanes in
//   reverse order), float compares returning a lane bit mask; loadu/storeu/set1u/zerou/andu/
//   oru/xoru/negu/addu, bitsf (a float's bits), nonzero (→ M), select(M, a, b) (a where M
//   holds), bit_index(a power of two or 0: its exponent; any value for 0), highest_index (of a
//   nonzero mask below 2^24; any value for 0), to_float (exact for small integers);
//   T::Table<N>::lookup(U) (N floats of a kTableSize-entry table, index taken modulo N);
//   T::kGroupBits: codeword statistics look up that many positions at once
//   (T::Group::lookup_sum / lookup_mask over 2^kGroupBits entries).
// Include only from the per-ISA kernel files, whose traits types live in anonymous namespaces:
// the instantiations then have internal linkage and never mix code between ISA levels.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>

#include "lattice/ball_kernels.hpp"

namespace llvq::lattice::impl {

// Items per bit of a scan's live-step mask (Scan::steps).
constexpr size_t kScanStep = 16;

// One walk step of one vector of items: the lowest rank left (low half first) of each item.
template <class T, bool kTwoHalves, class Table, class U, class F>
inline void walk_step(const Table& table, U& lo, U& hi, F& acc) {
  if constexpr (kTwoHalves) {
    const auto in_lo = T::nonzero(lo);
    const auto cur = T::select(in_lo, lo, hi);
    const auto bit = T::andu(cur, T::negu(cur));
    const auto index = T::bit_index(bit);
    const auto r = T::select(in_lo, index, T::addu(index, T::set1u(kHalfBits)));
    acc = T::addf(acc, table.lookup(r));
    lo = T::select(in_lo, T::xoru(lo, bit), lo);
    hi = T::select(in_lo, hi, T::xoru(hi, bit));
  } else {
    const auto bit = T::andu(lo, T::negu(lo));
    acc = T::addf(acc, table.lookup(T::bit_index(bit)));
    lo = T::xoru(lo, bit);
  }
}

// Walks `kLanes` vectors of items from j at once: their dependency chains (bit → index →
// lookup → sum) are independent, so the core overlaps them.
template <class T, bool kTwoHalves, int kLanes, class Table>
inline void walk_items(const RowWalk& job, const Table& table, size_t j) {
  typename T::U lo[kLanes], hi[kLanes];
  typename T::F acc[kLanes];
  for (int v = 0; v < kLanes; ++v) {
    const size_t at = j + v * T::kFloats;
    lo[v] = T::loadu(job.lo_in + at);
    hi[v] = kTwoHalves ? T::loadu(job.hi_in + at) : T::zerou();
    acc[v] = job.done == 0 ? T::zerof() : T::loadf(job.rows + (job.done - 1) * job.stride + at);
  }
  for (int t = job.done; t < job.depth; ++t) {
    for (int v = 0; v < kLanes; ++v) {
      walk_step<T, kTwoHalves>(table, lo[v], hi[v], acc[v]);
      T::storef(job.rows + t * job.stride + j + v * T::kFloats, acc[v]);
    }
  }
  for (int v = 0; v < kLanes; ++v) {
    T::storeu(job.lo_out + j + v * T::kFloats, lo[v]);
    if constexpr (kTwoHalves) T::storeu(job.hi_out + j + v * T::kFloats, hi[v]);
  }
}

template <class T, bool kTwoHalves>
void walk_rows(const RowWalk& job) {
  const typename T::template Table<kTwoHalves ? kTableSize : 32> table(job.values);
  constexpr size_t kStep = 2 * T::kFloats;
  size_t j = 0;
  for (; j + kStep <= job.count; j += kStep) walk_items<T, kTwoHalves, 2>(job, table, j);
  for (; j < job.count; j += T::kFloats) walk_items<T, kTwoHalves, 1>(job, table, j);
}

template <class T>
void walk_rows(const RowWalk& job) {
  if (job.two_halves) {
    walk_rows<T, true>(job);
  } else {
    walk_rows<T, false>(job);
  }
}

// Per group of kGroupBits positions, the sum and masks of every pattern of its positions
// (subset sums, each pattern from the one without its lowest bit).
template <class T>
void stats_tables(const CodewordStats& job, StatsTables& t) {
  constexpr int kBits = T::kGroupBits, kGroups = kHalfBits / kBits, kPatterns = 1 << kBits;
  static_assert(kHalfBits % kBits == 0 && kGroups * kPatterns <= StatsTables::kEntries);
  for (int g = 0; g < kGroups; ++g) {
    const int base = g * kPatterns;
    t.sum[base] = 0;
    t.lo[base] = t.hi[base] = t.parity[base] = 0;
    for (int p = 1; p < kPatterns; ++p) {
      const int pos = g * kBits + __builtin_ctz(static_cast<unsigned>(p));
      const int from = base + (p & (p - 1));
      t.sum[base + p] = t.sum[from] + job.value[pos];
      t.lo[base + p] = t.lo[from] | job.lo_bits[pos];
      t.hi[base + p] = job.hi_bits ? t.hi[from] | job.hi_bits[pos] : 0;
      t.parity[base + p] = t.parity[from] ^ ((job.odd_bits >> pos) & 1);
    }
  }
}

// Σ value and OR of bits over the positions of each codeword, kGroupBits positions per lookup.
template <class T>
void codeword_stats(const CodewordStats& job, const StatsTables& t) {
  constexpr int kBits = T::kGroupBits, kGroups = kHalfBits / kBits, kPatterns = 1 << kBits;
  std::array<typename T::Group, kGroups> sum_table, lo_table, hi_table, parity_table;
  for (int g = 0; g < kGroups; ++g) {
    sum_table[g] = typename T::Group(t.sum.data() + g * kPatterns);
    lo_table[g] = typename T::Group(t.lo.data() + g * kPatterns);
    hi_table[g] = typename T::Group(t.hi.data() + g * kPatterns);
    parity_table[g] = typename T::Group(t.parity.data() + g * kPatterns);
  }
  const bool even = job.rank_value != nullptr;
  static constexpr std::array<float, 32> kUnused{};  // the table a register-held Table loads when odd
  const typename T::template Table<32> rank_value(even ? job.rank_value : kUnused.data());
  const auto pattern = T::set1u(kPatterns - 1);
  const auto scale = T::set1f(job.scale), offset = T::set1f(job.offset);
  auto lo_base = T::set1u(job.lo_base), hi_base = T::set1u(job.hi_base);
  for (size_t j = job.first; j < job.first + job.count; j += T::kFloats) {
    const auto w = T::loadu(job.words + j);
    auto s = T::zerof();
    auto l = T::zerou(), h = T::zerou(), odd = T::zerou();
    for (int g = 0; g < kGroups; ++g) {
      const auto p = T::andu(T::srlu(w, g * kBits), pattern);
      s = T::addf(s, sum_table[g].lookup_sum(p));
      l = T::oru(l, lo_table[g].lookup_mask(p));
      if (job.hi_bits) h = T::oru(h, hi_table[g].lookup_mask(p));
      if (even) odd = T::xoru(odd, parity_table[g].lookup_mask(p));
    }
    s = T::fmaf(scale, s, offset);
    l = T::xoru(l, lo_base);
    T::storef(job.sum + j, s);
    T::storeu(job.lo + j, l);
    if (job.hi_bits) T::storeu(job.hi + j, T::xoru(h, hi_base));
    if (even) {
      T::storeu(job.lo_complement + j, T::xoru(l, T::set1u((1u << kHalfBits) - 1)));
      T::storef(job.last + j, rank_value.lookup(T::highest_index(l)));
      T::storef(job.parity + j, T::to_float(odd));
    }
  }
}

// The float level an item must reach to be evaluated exactly: max(best, floor) − margin,
// rounded down.
inline float filter_level(const Scan& job, double best) {
  const double level = std::max(best, job.floor) - job.margin;
  const float f = static_cast<float>(level);
  return static_cast<double>(f) <= level ? f : std::nextafter(f, -std::numeric_limits<float>::infinity());
}

// A scan's loop constants, converted and split once (the exact evaluation behind a function
// pointer would otherwise make the compiler reload and convert them on every step): forward
// rows, then rows read backwards (their end pointers), each with its float coefficient.
template <class T>
struct ScanPlan {
  using F = typename T::F;
  int forward = 0, backward = 0;
  std::array<const float*, 2 * kHalfBits> row{};
  F coef[2 * kHalfBits];  // (std::array would drop the vector type's alignment attributes)
  F on_last, off_last, total, sum_coef, want_parity, penalty;
  explicit ScanPlan(const Scan& job)
      : on_last(T::set1f(static_cast<float>(job.on_last))),
        off_last(T::set1f(static_cast<float>(job.off_last))),
        total(T::set1f(static_cast<float>(job.total))),
        sum_coef(T::set1f(static_cast<float>(job.sum_coef))),
        want_parity(T::set1f(static_cast<float>(job.want_parity))),
        penalty(T::set1f(static_cast<float>(-job.penalty))) {
    for (int pass = 0; pass < 2; ++pass) {
      for (int k = 0; k < job.nrows; ++k) {
        const bool reversed = (job.reversed >> k) & 1;
        if (reversed != (pass == 1)) continue;
        const int n = forward + backward;
        row[n] = job.rows[k];
        coef[n] = T::set1f(static_cast<float>(job.coef[k]));
        ++(reversed ? backward : forward);
      }
    }
  }
  // The first item of the vector that holds, lane for lane in reverse, the items j ^ 31 of the
  // vector at j (j a multiple of kFloats, which divides 32).
  static size_t mirrored(size_t j) { return (j & ~size_t{31}) + 32 - T::kFloats - (j & 31); }
  // The float value of the items of one step; `live` lanes only matter.
  template <bool kEven>
  F value(const Scan& job, size_t j, F s) const {
    // Forward and backward rows in two independent chains of fused multiply-adds (half the
    // latency of one chain).
    F ip = kEven ? T::fmaf(on_last, s, T::mulf(off_last, T::subf(total, s))) : T::mulf(sum_coef, s);
    F back = T::zerof();
    for (int k = 0; k < forward; ++k) ip = T::fmaf(coef[k], T::loadf(row[k] + j), ip);
    for (int k = forward; k < forward + backward; ++k)
      back = T::fmaf(coef[k], T::loadf_reversed(row[k] + mirrored(j)), back);
    ip = T::addf(ip, back);
    if constexpr (kEven) {
      // parity ∈ {0, 1}: the penalty factor |parity − want| is exact.
      const F wrong = T::absf(T::subf(T::loadf(job.parity + j), want_parity));
      ip = T::fmaf(T::mulf(penalty, wrong), T::loadf(job.smallest + j), ip);
    }
    return ip;
  }
};

template <class T, bool kEven>
ScanBest scan(const Scan& job) {
  static_assert(kScanStep % T::kFloats == 0);
  const ScanPlan<T> plan(job);
  ScanBest best{-std::numeric_limits<double>::infinity(), 0};
  // Rounding is monotone: s ≥ lo − slack implies fl(s) ≥ fl(lo − slack), so the float test
  // keeps every item the exact one keeps.
  const auto lo = T::set1f(static_cast<float>(job.lo - job.stat_slack));
  const auto hi = T::set1f(static_cast<float>(job.hi + job.stat_slack));
  auto level = T::set1f(filter_level(job, best.value));
  const float* stat = job.stat;
  const size_t steps = job.count / kScanStep;
  for (size_t word = 0; word * 64 < steps; ++word) {
    for (uint64_t live_steps = job.steps[word]; live_steps; live_steps &= live_steps - 1) {
      const size_t first = (word * 64 + std::countr_zero(live_steps)) * kScanStep;
      for (size_t j = first; j < first + kScanStep; j += T::kFloats) {
        const auto s = T::loadf(stat + j);
        const unsigned live = T::gef(s, lo) & T::lef(s, hi);
        if (!live) continue;
        for (unsigned reach = live & T::gef(plan.template value<kEven>(job, j, s), level); reach; reach &= reach - 1) {
          const uint32_t item = static_cast<uint32_t>(j + __builtin_ctz(reach));
          const double value = job.exact(job.exact_ctx, item);
          const bool tie = value == best.value && value > -std::numeric_limits<double>::infinity() &&
                           job.canonical[item] < job.canonical[best.index];
          if (value > best.value || tie) {
            best = {value, item};
            level = T::set1f(filter_level(job, best.value));
          }
        }
      }
    }
  }
  return best;
}

// Coset bounds (CosetBounds), kFloats cosets per step.
template <class T>
void coset_bounds(const CosetBounds& job) {
  constexpr int kColumns = 6;
  std::array<typename T::Group, kColumns> column;
  for (int k = 0; k < kColumns; ++k) column[k] = typename T::Group(job.column + 16 * k);
  const auto level = T::set1f(job.level);
  for (int w = 0; w < job.count / 32; ++w) job.live[w] = 0;
  for (int g = 0; g < job.count; g += T::kFloats) {
    const auto pattern = T::loadu(job.pattern + g);
    auto sum = T::zerof(), least = T::set1f(std::numeric_limits<float>::infinity());
    auto sign = pattern;  // bit 31: the parity of negative u_k against the pattern's flag
    for (int k = 0; k < kColumns; ++k) {
      const auto u = column[k].lookup_sum(T::andu(T::srlu(pattern, 3 * k), T::set1u(7)));
      const auto magnitude = T::absf(u);
      sum = T::addf(sum, magnitude);
      least = T::minf(least, magnitude);
      sign = T::xoru(sign, T::bitsf(u));
    }
    const auto wrong = T::to_float(T::srlu(sign, 31));
    const auto bound = T::fmaf(T::mulf(T::set1f(-2.0f), wrong), least, sum);
    job.live[g / 32] |= T::gef(bound, level) << (g % 32);
    if (job.bound) T::storef(job.bound + g, bound);
  }
}

template <class T>
ScanBest scan(const Scan& job) {
  return job.even ? scan<T, true>(job) : scan<T, false>(job);
}

template <class T>
BallKernels kernels() {
  return {&walk_rows<T>, &stats_tables<T>, &codeword_stats<T>, &scan<T>, &coset_bounds<T>};
}

}  // namespace llvq::lattice::impl
