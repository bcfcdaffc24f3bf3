// Loop bodies of the search kernels, written once over a traits type T (ball_kernels.hpp):
//   T::kWidth lanes; T::D (doubles), T::I (64-bit integers), T::Table<N> (N doubles of a
//   kTableSize-entry table);
//   load/store/set1/add/fma, mask compares returning a lane bit mask, lowest/highest set bit
//   indices, clear_lowest/clear_bit, Table::lookup(index).
// Include only from the per-ISA kernel files, whose traits types live in anonymous namespaces:
// the instantiations then have internal linkage and never mix code between ISA levels.
#pragma once

#include <limits>

#include "lattice/ball_kernels.hpp"

namespace llvq::lattice::impl {

template <class T, int N>
void walk_rows(const RowWalk& job) {
  const typename T::template Table<N> table(job.values);
  for (size_t j = 0; j < job.count; j += T::kWidth) {
    auto m = T::loadi(job.masks_in + j);
    auto acc = job.done == 0 ? T::zero() : T::load(job.rows + (job.done - 1) * job.stride + j);
    for (int t = job.done; t < job.depth; ++t) {
      if (job.from_top) {
        acc = T::add(acc, table.lookup(T::lowest(m)));
        m = T::clear_lowest(m);
      } else {
        const auto r = T::highest(m);
        acc = T::add(acc, table.lookup(r));
        m = T::clear_bit(m, r);
      }
      T::store(job.rows + t * job.stride + j, acc);
    }
    T::storei(job.masks_out + j, m);
  }
}

// The value of the items of one step; `live` lanes only matter.
template <class T>
typename T::D scan_value(const Scan& job, size_t j, typename T::D s) {
  typename T::D ip;
  if (job.even) {
    const auto off = T::mul(T::set1(job.off_last), T::sub(T::set1(job.total), s));
    ip = T::fma(T::set1(job.on_last), s, off);
  } else {
    ip = T::mul(T::set1(job.sum_coef), s);
  }
  for (int k = 0; k < job.nrows; ++k) ip = T::fma(T::set1(job.coef[k]), T::load(job.rows[k] + j), ip);
  if (job.even) {
    // parity ∈ {0, 1}: the penalty factor |parity − want| is exact, and a zero factor
    // leaves ip unchanged.
    const auto wrong = T::abs(T::sub(T::load(job.parity + j), T::set1(job.want_parity)));
    ip = T::fma(T::mul(T::set1(-job.penalty), wrong), T::load(job.smallest + j), ip);
  }
  return ip;
}

template <class T>
ScanBest scan(const Scan& job) {
  ScanBest best{-std::numeric_limits<double>::infinity(), 0};
  const auto lo = T::set1(job.lo), hi = T::set1(job.hi);
  for (size_t j = 0; j < job.count; j += T::kWidth) {
    const auto s = T::load(job.stat + j);
    const unsigned live = T::ge(s, lo) & T::le(s, hi);
    if (!live) continue;
    const auto ip = scan_value<T>(job, j, s);
    unsigned better = live & T::gt(ip, T::set1(best.value));
    if (!better) continue;
    // Lanes in increasing index order with a strict comparison: the smallest index wins ties.
    double lanes[T::kWidth];
    T::store(lanes, ip);
    for (; better; better &= better - 1) {
      const int l = __builtin_ctz(better);
      if (lanes[l] > best.value) best = {lanes[l], static_cast<uint32_t>(j + l)};
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
