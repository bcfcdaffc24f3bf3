// Loop bodies of the search kernels, written once over a traits type T (ball_kernels.hpp):
//   T::kWidth lanes of T::D (doubles) and T::I (64-bit integers) for the row walks, with
//   T::Table<N> (N doubles of a kTableSize-entry table), load/store/add, store_rounded
//   (kWidth doubles to floats), lowest/highest set bit indices, clear_lowest/clear_bit,
//   Table::lookup(index);
//   T::kFloats lanes of T::F (floats) for the scans: loadf, loadf_reversed (lanes in reverse
//   order), set1f/subf/mulf/fmaf/absf and compares returning a lane bit mask.
// Include only from the per-ISA kernel files, whose traits types live in anonymous namespaces:
// the instantiations then have internal linkage and never mix code between ISA levels.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>

#include "lattice/ball_kernels.hpp"

namespace llvq::lattice::impl {

template <class T, int N>
void walk_rows(const RowWalk& job) {
  const typename T::template Table<N> table(job.values);
  for (size_t j = 0; j < job.count; j += T::kWidth) {
    auto m = T::loadi(job.masks_in + j);
    auto acc = job.done == 0 ? T::zero() : T::load(job.carry + j);
    for (int t = job.done; t < job.depth; ++t) {
      if (job.from_top) {
        acc = T::add(acc, table.lookup(T::lowest(m)));
        m = T::clear_lowest(m);
      } else {
        const auto r = T::highest(m);
        acc = T::add(acc, table.lookup(r));
        m = T::clear_bit(m, r);
      }
      T::store_rounded(job.rows + t * job.stride + j, acc);
    }
    T::storei(job.masks_out + j, m);
    T::store(job.carry + j, acc);
  }
}

// The float value of the items of one step; `live` lanes only matter.
template <class T>
typename T::F scan_value(const Scan& job, size_t j, typename T::F s) {
  using F = typename T::F;
  F ip;
  if (job.even) {
    const F off = T::mulf(T::set1f(static_cast<float>(job.off_last)), T::subf(T::set1f(static_cast<float>(job.total)), s));
    ip = T::fmaf(T::set1f(static_cast<float>(job.on_last)), s, off);
  } else {
    ip = T::mulf(T::set1f(static_cast<float>(job.sum_coef)), s);
  }
  for (int k = 0; k < job.nrows; ++k) {
    const F row = (job.reversed >> k) & 1 ? T::loadf_reversed(job.rows[k] + (job.count - T::kFloats - j))
                                          : T::loadf(job.rows[k] + j);
    ip = T::fmaf(T::set1f(static_cast<float>(job.coef[k])), row, ip);
  }
  if (job.even) {
    // parity ∈ {0, 1}: the penalty factor |parity − want| is exact.
    const F wrong = T::absf(T::subf(T::loadf(job.parity + j), T::set1f(static_cast<float>(job.want_parity))));
    ip = T::fmaf(T::mulf(T::set1f(static_cast<float>(-job.penalty)), wrong), T::loadf(job.smallest + j), ip);
  }
  return ip;
}

// The float level an item must reach to be evaluated exactly: max(best, floor) − margin,
// rounded down.
inline float filter_level(const Scan& job, double best) {
  const double level = std::max(best, job.floor) - job.margin;
  const float f = static_cast<float>(level);
  return static_cast<double>(f) <= level ? f : std::nextafter(f, -std::numeric_limits<float>::infinity());
}

template <class T>
ScanBest scan(const Scan& job) {
  ScanBest best{-std::numeric_limits<double>::infinity(), 0};
  // Rounding is monotone: s ≥ lo implies fl(s) ≥ fl(lo), so the float test keeps every item
  // the exact one keeps.
  const auto lo = T::set1f(static_cast<float>(job.lo)), hi = T::set1f(static_cast<float>(job.hi));
  auto level = T::set1f(filter_level(job, best.value));
  for (size_t j = 0; j < job.count; j += T::kFloats) {
    const auto s = T::loadf(job.stat + j);
    const unsigned live = T::gef(s, lo) & T::lef(s, hi);
    if (!live) continue;
    // Lanes in increasing index order with a strict comparison: the smallest index wins ties.
    for (unsigned reach = live & T::gef(scan_value<T>(job, j, s), level); reach; reach &= reach - 1) {
      const uint32_t item = static_cast<uint32_t>(j + __builtin_ctz(reach));
      const double value = job.exact(job.exact_ctx, item);
      if (value > best.value) {
        best = {value, item};
        level = T::set1f(filter_level(job, best.value));
      }
    }
  }
  return best;
}

template <class T>
void walk_rows(const RowWalk& job) {
  if (job.short_table) {
    walk_rows<T, kShortTable>(job);
  } else {
    walk_rows<T, kTableSize>(job);
  }
}

template <class T>
BallKernels kernels() {
  return {&walk_rows<T>, &scan<T>};
}

}  // namespace llvq::lattice::impl
