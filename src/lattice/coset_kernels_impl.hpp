// The body of the coset-cost kernels (coset_kernels.hpp), written once over a traits type T:
//   Cost, kLanes; D (kLanes costs), I (kLanes table indices), M (a lane mask);
//   index(I) → T::Index, the form lookup16 takes (shared by the lookups of one index);
//   lookup16(table, Index): table[i] per lane from a 16-entry table (64-byte aligned);
//   bits_at(mask, I): bit i of a 32-bit mask per lane; lane_mask(bits): bit l for lane l;
//   mask_bits(M): lane l's condition as bit l; load_xor(block, a, b0): block[(b0 + l) ⊕ a] for
//   lane l of an 8-entry block; add, sub, min, lt, le, select(m, a, b) = m ? a : b, load,
//   store, set1; least(D): the least lane.
// Included only by coset_kernels*.cpp; everything here has internal linkage.
#pragma once

#include <cstdint>

#include "lattice/coset_kernels.hpp"

namespace llvq::lattice {
namespace {

// Soft triples of the 16 bit patterns m of four coordinates (bit l of m: position l of the
// four is on the codeword): the best cost, the extra cost of the other parity (≥ 0), and the
// parity of the best choice (bit m of `parity`).
template <class Cost>
struct NibbleTable {
  alignas(64) Cost best[16];
  alignas(64) Cost extra[16];
  uint32_t parity;
};

template <class Cost>
struct ClassColumns {
  alignas(64) Cost best[64];
  alignas(64) Cost extra[64];
  uint64_t parity;  // bit k: class k
};

// Bit b of the result is bit b ⊕ a of `byte`.
inline uint32_t xor_permuted(uint32_t byte, int a) {
  if (a & 1) byte = (byte & 0x55) << 1 | (byte >> 1 & 0x55);
  if (a & 2) byte = (byte & 0x33) << 2 | (byte >> 2 & 0x33);
  if (a & 4) byte = (byte & 0x0F) << 4 | (byte >> 4 & 0x0F);
  return byte;
}

// Soft triples of the 16 patterns of the four coordinates pos[0..3]: pattern m takes
// position l on the codeword where bit l of m is set. Costs are summed over l in order, the
// patterns in vector lanes.
template <class T>
void nibble_table(const CosetCostJob<typename T::Cost>& job, const int* pos, NibbleTable<typename T::Cost>& out) {
  static constexpr uint32_t kOn[4] = {0xAAAA, 0xCCCC, 0xF0F0, 0xFF00};  // the patterns with bit l set
  for (int m0 = 0; m0 < 16; m0 += T::kLanes) {
    typename T::D best{}, extra{};
    for (int l = 0; l < 4; ++l) {
      const typename T::M on = T::lane_mask(kOn[l] >> m0);
      const int i = pos[l];
      const typename T::D b = T::select(on, T::set1(job.on.best[i]), T::set1(job.off.best[i]));
      const typename T::D x = T::select(on, T::set1(job.on.extra[i]), T::set1(job.off.extra[i]));
      best = l == 0 ? b : T::add(best, b);
      extra = l == 0 ? x : T::min(extra, x);
    }
    T::store(out.best + m0, best);
    T::store(out.extra + m0, extra);
  }
  out.parity = 0;
  for (int l = 0; l < 4; ++l)
    out.parity ^= (job.on.parity >> pos[l] & 1 ? kOn[l] : 0) ^ (job.off.parity >> pos[l] & 1 ? ~kOn[l] & 0xFFFF : 0);
}

// Soft triples of the 64 complement classes of one octad: each class is the better of its
// representative word (nibbles lo_label[k], hi_label[k]) and that word's complement, for
// each parity.
template <class T>
void class_table(const NibbleTable<typename T::Cost>& lo, const NibbleTable<typename T::Cost>& hi,
                 const int32_t* lo_label, const int32_t* hi_label, ClassColumns<typename T::Cost>& out) {
  out.parity = 0;
  for (int k = 0; k < 64; k += T::kLanes) {
    const typename T::I l = T::load_labels(lo_label + k), u = T::load_labels(hi_label + k);
    const typename T::I lc = T::complement(l), uc = T::complement(u);
    const typename T::Index il = T::index(l), iu = T::index(u), ilc = T::index(lc), iuc = T::index(uc);
    const typename T::D b = T::add(T::lookup16(lo.best, il), T::lookup16(hi.best, iu));
    const typename T::D bc = T::add(T::lookup16(lo.best, ilc), T::lookup16(hi.best, iuc));
    const typename T::D x = T::min(T::lookup16(lo.extra, il), T::lookup16(hi.extra, iu));
    const typename T::D xc = T::min(T::lookup16(lo.extra, ilc), T::lookup16(hi.extra, iuc));
    const typename T::M p = T::mask_xor(T::bits_at(lo.parity, l), T::bits_at(hi.parity, u));
    const typename T::M pc = T::mask_xor(T::bits_at(lo.parity, lc), T::bits_at(hi.parity, uc));
    const typename T::D bx = T::add(b, x), bcx = T::add(bc, xc);
    // The cheapest way to each parity: the word or its complement, each at its best or moved.
    const typename T::D c0 = T::min(T::select(p, bx, b), T::select(pc, bcx, bc));
    const typename T::D c1 = T::min(T::select(p, b, bx), T::select(pc, bc, bcx));
    const typename T::M one = T::lt(c1, c0);
    T::store(out.best + k, T::select(one, c1, c0));
    T::store(out.extra + k, T::select(one, T::sub(c0, c1), T::sub(c1, c0)));
    out.parity |= uint64_t{T::mask_bits(one)} << k;
  }
}

// The cost of the best point of each of the 512 cosets of half job.h: the three octads'
// class costs summed; when their parities disagree with h, plus the cheapest fix. Returns
// their minimum (kept lane by lane as they are stored).
template <class T>
typename T::Cost coset_costs(const CosetCostJob<typename T::Cost>& job) {
  using Cost = typename T::Cost;
  ClassColumns<Cost> cls[3];
  for (int j = 0; j < 3; ++j) {
    NibbleTable<Cost> lo, hi;
    nibble_table<T>(job, job.positions + 8 * j, lo);
    nibble_table<T>(job, job.positions + 8 * j + 4, hi);
    class_table<T>(lo, hi, job.lo_label + 64 * j, job.hi_label + 64 * j, cls[j]);
  }
  typename T::D lowest{};
  for (int x = 0; x < 8; ++x) {
    const uint32_t parity1 = static_cast<uint32_t>(cls[1].parity >> 8 * x) & 0xFF;
    const uint32_t parity2 = static_cast<uint32_t>(cls[2].parity >> 8 * x) & 0xFF;
    const Cost* best1 = cls[1].best + 8 * x;
    const Cost* extra1 = cls[1].extra + 8 * x;
    const Cost* best2 = cls[2].best + 8 * x;
    const Cost* extra2 = cls[2].extra + 8 * x;
    for (int a = 0; a < 8; ++a) {
      const int i0 = 8 * x + a;
      const typename T::D best0 = T::set1(cls[0].best[i0]), extra0 = T::set1(cls[0].extra[i0]);
      // Bit b: triple (i0, 8x + b, 8x + (a ⊕ b)) has the wrong parity for half h.
      const uint32_t parity0 = static_cast<uint32_t>(cls[0].parity >> i0 & 1) ^ static_cast<uint32_t>(job.h);
      const uint32_t wrong = parity1 ^ xor_permuted(parity2, a) ^ (parity0 ? 0xFFu : 0u);
      for (int b0 = 0; b0 < 8; b0 += T::kLanes) {
        const typename T::D sum = T::add(T::add(best0, T::load(best1 + b0)), T::load_xor(best2, a, b0));
        const typename T::D fix = T::min(T::min(extra0, T::load(extra1 + b0)), T::load_xor(extra2, a, b0));
        const typename T::D total = T::select(T::lane_mask(wrong >> b0), T::add(sum, fix), sum);
        T::store(job.total + 8 * i0 + b0, total);
        lowest = i0 == 0 && b0 == 0 ? total : T::min(lowest, total);
      }
    }
  }
  return T::least(lowest);
}

// Bit t % 64 of bits[t / 64]: total[t] ≤ bound, for t < 512.
template <class T>
void costs_within(const typename T::Cost* total, typename T::Cost bound, uint64_t* bits) {
  const typename T::D limit = T::set1(bound);
  for (int w = 0; w < 8; ++w) {
    uint64_t word = 0;
    for (int t = 0; t < 64; t += T::kLanes)
      word |= uint64_t{T::mask_bits(T::le(T::load(total + 64 * w + t), limit))} << t;
    bits[w] = word;
  }
}

template <class T>
CosetKernels kernels() {
  return {coset_costs<T>, costs_within<T>};
}

}  // namespace
}  // namespace llvq::lattice
