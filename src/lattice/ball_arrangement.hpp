// The pieces of the Λ24(M) index that do not depend on the index width, shared by LeechBall
// (64-bit index, M ≤ 16) and LeechBallIndex (128-bit index, larger M): arrangements of a
// class's values over a slot mask, the free signs of an even class, and codeword positions.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <vector>

#include "llvq/error.hpp"
#include "llvq/golay.hpp"
#include "llvq/leech.hpp"
#include "llvq/leech_ball.hpp"

namespace llvq::ball_detail {

using leech::kDim;
inline constexpr uint32_t kAll = 0xFFFFFF;
using Arrangement = LeechBall::ArrangementInfo;

struct Binomials {
  std::array<std::array<uint64_t, kDim + 1>, kDim + 1> c{};
  Binomials() {
    for (int n = 0; n <= kDim; ++n) {
      c[n][0] = 1;
      for (int k = 1; k <= n; ++k) c[n][k] = c[n - 1][k - 1] + (k <= n - 1 ? c[n - 1][k] : 0);
    }
  }
};
inline const Binomials& binomials() {
  static const Binomials b;
  return b;
}

// Position of each codeword in golay::codewords_of_weight(its weight), by message.
inline const std::array<uint16_t, 4096>& index_in_weight() {
  static const std::array<uint16_t, 4096> table = [] {
    std::array<uint16_t, 4096> t{};
    for (int w : {0, 8, 12, 16, 24}) {
      const auto list = golay::codewords_of_weight(w);
      for (size_t i = 0; i < list.size(); ++i) t[*golay::decode(list[i])] = static_cast<uint16_t>(i);
    }
    return t;
  }();
  return table;
}

inline uint32_t message_of(uint32_t word) { return (word >> 11) & 0xFFF; }  // systematic encoding

inline uint32_t highest_bit(uint32_t m) { return 1u << (31 - std::countl_zero(m)); }

// Positions whose sign is a free index bit in an even class: the codeword minus its last
// position (whose sign the parity fixes) and every non-zero position off the codeword.
inline uint32_t free_sign_mask(uint32_t word, uint32_t zero_mask) {
  const uint32_t on = word ? word & ~highest_bit(word) : 0;
  return on | (~word & kAll & ~zero_mask);
}

// `values` in non-increasing order. The most frequent value (the largest such) fills the
// remaining slots: fewer combination levels to walk.
inline Arrangement make_arrangement(const std::vector<int>& values) {
  Arrangement a;
  std::map<int, int, std::greater<>> counts;
  for (int v : values) ++counts[v];
  if (counts.empty()) return a;
  const auto fill = std::max_element(counts.begin(), counts.end(),
                                     [](const auto& x, const auto& y) { return x.second < y.second; });
  a.fill = static_cast<uint8_t>(fill->first);
  int free = static_cast<int>(values.size());
  for (const auto& [v, n] : counts) {
    if (v == fill->first) continue;
    a.value[a.levels] = static_cast<uint8_t>(v);
    a.count[a.levels] = static_cast<uint8_t>(n);
    a.radix[a.levels] = binomials().c[free][n];
    if (a.total > UINT64_MAX / a.radix[a.levels]) throw std::logic_error("arrangement count exceeds 64 bits");
    a.total *= a.radix[a.levels];
    free -= n;
    ++a.levels;
  }
  return a;
}

// An even class's values split by their place: the ≡ 2 mod 4 values go on the codeword
// (`on`), the others (zeros included) off it; the free sign bits (codeword positions but the
// last, non-zero positions off it) and the parity of minus signs Σ|x| ≡ 0 mod 8 asks for.
struct EvenSplit {
  std::vector<int> on, off;  // non-increasing
  int sign_bits = 0;
  int minus_parity = 0;
};
inline EvenSplit split_even(const std::array<uint8_t, kDim>& leader) {
  EvenSplit s;
  int sum = 0, nonzero_off = 0;
  for (int v : leader) {
    sum += v;
    if (v % 4 == 2) {
      s.on.push_back(v);
    } else {
      s.off.push_back(v);
      nonzero_off += v != 0;
    }
  }
  s.sign_bits = static_cast<int>(s.on.empty() ? 0 : s.on.size() - 1) + nonzero_off;
  s.minus_parity = (sum % 8) / 4;
  return s;
}

// Colex rank of the arrangement on `slots`; value_mask[v] = positions holding |x_i| = v.
inline uint64_t rank_arrangement(const Arrangement& a, uint32_t slots, const uint32_t* value_mask) {
  const auto& C = binomials().c;
  uint64_t r = 0, mult = 1;
  uint32_t free = slots;
  for (int l = 0; l < a.levels; ++l) {
    const uint32_t chosen = free & value_mask[a.value[l]];
    uint64_t rl = 0;
    int j = 1;
    for (uint32_t m = chosen; m; m &= m - 1, ++j) {
      const uint32_t below = free & ((m & -m) - 1);
      rl += C[std::popcount(below)][j];
    }
    r += rl * mult;
    mult *= a.radix[l];
    free &= ~chosen;
  }
  return r;
}

inline void unrank_arrangement(const Arrangement& a, uint32_t slots, uint64_t r, leech::Vec& abs) {
  const auto& C = binomials().c;
  uint32_t free = slots;
  int nfree = std::popcount(slots);
  for (int l = 0; l < a.levels; ++l) {
    uint64_t rl = r % a.radix[l];
    r /= a.radix[l];
    // Colex unrank: walk the free slots from the top, take slot e when C(e, j) ≤ rest.
    int j = a.count[l];
    int e = nfree - 1;
    uint32_t walk = free, chosen = 0;
    while (j > 0) {
      const uint32_t bit = highest_bit(walk);
      walk ^= bit;
      if (C[e][j] <= rl) {
        rl -= C[e][j];
        chosen |= bit;
        --j;
      }
      --e;
    }
    for (uint32_t m = chosen; m; m &= m - 1) abs[std::countr_zero(m)] = a.value[l];
    free &= ~chosen;
    nfree -= a.count[l];
  }
  for (uint32_t m = free; m; m &= m - 1) abs[std::countr_zero(m)] = a.fill;
}

// The signs of an even-class point: bit b of `signs` negates the b-th free sign position
// of free_sign_mask; the codeword's last position then takes the sign that gives the
// codeword `minus_parity` minus signs.
inline void apply_even_signs(uint32_t word, uint64_t signs, int minus_parity, leech::Vec& v) {
  uint32_t zero = 0;
  for (int i = 0; i < kDim; ++i) zero |= uint32_t{v[i] == 0} << i;
  uint32_t neg = 0;
  for (uint32_t m = free_sign_mask(word, zero); m; m &= m - 1, signs >>= 1)
    if (signs & 1) neg |= m & -m;
  if (word && (std::popcount(neg & word) & 1) != minus_parity) neg |= highest_bit(word);
  for (uint32_t m = neg; m; m &= m - 1) v[std::countr_zero(m)] = -v[std::countr_zero(m)];
}

// The inverse of apply_even_signs: the free sign bits of a point with negative positions `neg`.
inline uint64_t even_sign_bits(uint32_t word, uint32_t zero_mask, uint32_t neg) {
  uint64_t signs = 0;
  int b = 0;
  for (uint32_t m = free_sign_mask(word, zero_mask); m; m &= m - 1, ++b) signs |= uint64_t{(neg & m & -m) != 0} << b;
  return signs;
}

// An odd-class point from its absolute values and codeword: position i holds a value
// ≡ 3 mod 4 exactly when i is in the codeword.
inline void apply_odd_signs(uint32_t word, leech::Vec& v) {
  for (int i = 0; i < kDim; ++i) {
    const int32_t b = (v[i] & 3) == 3 ? v[i] : -v[i];
    v[i] = (word >> i) & 1 ? b : -b;
  }
}

// What rank needs from a point's coordinates: the positions of each absolute value up to
// MaxValue (larger ones only set too_large), the marked positions (≡ 2 mod 4 for an even
// point, ≡ 3 mod 4 for an odd one: a Golay codeword for a lattice point), the negative ones
// and the coordinate sum; with `key_weight`, also Σ key_weight[|x_i|] (LeechBall's class key).
// InputError on mixed parities.
template <int MaxValue>
struct PointMasks {
  bool odd = false, too_large = false;
  std::array<uint32_t, MaxValue + 1> value_mask{};
  uint32_t mark = 0, neg = 0;
  int64_t sum = 0;
  uint64_t key = 0;

  explicit PointMasks(const leech::Vec& x, const uint64_t* key_weight = nullptr) : odd((x[0] & 1) != 0) {
    const int32_t marked = odd ? 3 : 2;
    for (int i = 0; i < kDim; ++i) {
      const int64_t xi = x[i];
      if (((xi & 1) != 0) != odd) throw InputError("point is not in the Leech lattice (mixed parities)");
      const int64_t a = xi < 0 ? -xi : xi;
      if (a > MaxValue) {
        too_large = true;
        continue;
      }
      value_mask[static_cast<size_t>(a)] |= 1u << i;
      if (key_weight) key += key_weight[a];
      mark |= uint32_t{(xi & 3) == marked} << i;
      neg |= uint32_t{xi < 0} << i;
      sum += xi;
    }
  }
  bool is_origin() const { return !odd && value_mask[0] == kAll; }
  // With the parities checked, the point is in J exactly when the marks are a codeword and
  // Σx ≡ 0 (even) or 4 (odd) mod 8; returns the codeword's message, InputError otherwise.
  uint32_t lattice_message() const {
    const uint32_t msg = message_of(mark);
    if (golay::codewords()[msg] != mark || ((sum % 8) + 8) % 8 != (odd ? 4 : 0))
      throw InputError("point is not in the Leech lattice");
    return msg;
  }
};

// A class's in-class index (docs/lattice.md): for an odd class `message + 4096·(arrangement
// of all values over the 24 positions)`; for an even one `signs + 2^sign_bits·(arrangement_off
// + P_off·(arrangement_on + P_on·codeword))`, codeword = position in the weight's list.
struct ClassIndexing {
  bool odd = false;
  int weight = 0;  // codeword weight (even); 24 (odd)
  // Even: `on` = values ≡ 2 mod 4 over the codeword, `off` = the others over its complement.
  // Odd: `on` = all values over all 24 positions.
  Arrangement on, off;
  int sign_bits = 0;
  int minus_parity = 0;  // even: required parity of minus signs on the codeword
};

inline ClassIndexing class_indexing(const std::array<uint8_t, kDim>& leader, bool odd, int weight) {
  ClassIndexing c;
  c.odd = odd;
  c.weight = weight;
  if (odd) {
    c.on = make_arrangement(std::vector<int>(leader.begin(), leader.end()));
    return c;
  }
  const EvenSplit split = split_even(leader);
  c.on = make_arrangement(split.on);
  c.off = make_arrangement(split.off);
  c.sign_bits = split.sign_bits;
  c.minus_parity = split.minus_parity;
  return c;
}

// The number of points the layout numbers: the class size.
inline unsigned __int128 class_count(const ClassIndexing& c) {
  using U = unsigned __int128;
  if (c.odd) return U{4096} * c.on.total;
  return static_cast<U>(golay::codewords_of_weight(c.weight).size()) * (U{1} << c.sign_bits) * c.on.total *
         c.off.total;
}

// The point at in-class index `i`, for either index width.
template <class Index>
leech::Vec unrank_in_class(const ClassIndexing& c, Index i) {
  leech::Vec v{};
  if (c.odd) {
    unrank_arrangement(c.on, kAll, static_cast<uint64_t>(i >> 12), v);
    apply_odd_signs(golay::codewords()[static_cast<size_t>(i & 4095)], v);
    return v;
  }
  const uint64_t signs = static_cast<uint64_t>(i & ((Index{1} << c.sign_bits) - 1));
  Index rest = i >> c.sign_bits;
  const uint64_t perm_off = static_cast<uint64_t>(rest % c.off.total);
  rest /= c.off.total;
  const uint64_t perm_on = static_cast<uint64_t>(rest % c.on.total);
  const uint32_t word = golay::codewords_of_weight(c.weight)[static_cast<size_t>(rest / c.on.total)];
  unrank_arrangement(c.on, word, perm_on, v);
  unrank_arrangement(c.off, ~word & kAll, perm_off, v);
  apply_even_signs(word, signs, c.minus_parity, v);
  return v;
}

// The in-class index of the point behind `p` (a lattice point of the class; `msg` the
// message of its marks), for either index width.
template <class Index, int MaxValue>
Index rank_in_class(const ClassIndexing& c, const PointMasks<MaxValue>& p, uint32_t msg) {
  if (c.odd) return msg + Index{4096} * rank_arrangement(c.on, kAll, p.value_mask.data());
  const Index cw = index_in_weight()[msg];
  const Index perm_on = rank_arrangement(c.on, p.mark, p.value_mask.data());
  const Index perm_off = rank_arrangement(c.off, ~p.mark & kAll, p.value_mask.data());
  const Index signs = even_sign_bits(p.mark, p.value_mask[0], p.neg);
  return signs + ((perm_off + c.off.total * (perm_on + c.on.total * cw)) << c.sign_bits);
}

}  // namespace llvq::ball_detail
