// Shells and classes of the Leech lattice in integer coordinates J = √8·Λ24 (docs/background.md §1).
//
// Shell m holds the points with |x|² = 16·m. Its size N(m) comes from the theta series
// N(m) = 65520/691 · (σ₁₁(m) − τ(m)), evaluated in exact 128-bit integer arithmetic.
// A class is a multiset of absolute values (the leader, 24 values, non-increasing) plus its
// parity type (all even or all odd); every shell is a disjoint union of classes, and each
// class size has a closed form (see class_size()). Nothing here is tabulated in the source:
// leaders are enumerated at run time.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "llvq/leech.hpp"

namespace llvq::shells {

using u128 = unsigned __int128;

using leech::kDim;
// Largest m for which theta_count() is available (M = 214 already fills 96 bits).
inline constexpr int kMaxThetaShell = 256;
// Largest m for which classes_of_shell() is available: enough for the 72-bit ball Λ24(53);
// every |x_i| stays ≤ 32 and every arrangement count below 2^64.
inline constexpr int kMaxClassShell = 64;

// N(m): the number of lattice points with |x|² = 16·m (N(0) = 1, N(1) = 0).
// InputError when m < 0 or m > kMaxThetaShell.
u128 theta_count(int m);

// Σ_{s=0..m} N(s) without the origin when `with_origin` is false.
u128 ball_count(int max_shell, bool with_origin);

// Decimal string of a 128-bit unsigned integer.
std::string to_decimal(u128 v);

// ⌈log₂ n⌉ (0 for n ≤ 1).
int ceil_log2(u128 n);

struct LeechClass {
  int shell = 0;
  bool odd = false;
  std::array<uint8_t, kDim> leader{};  // absolute values, non-increasing
  // Even classes: number of values ≡ 2 mod 4 = weight of the Golay codeword that carries
  // them (0, 8, 12, 16 or 24). Odd classes: 24.
  int weight = 0;
  u128 size = 0;
};

// Closed-form size of the class (leader, parity); 0 when no lattice point has this leader.
//  even: γ(w) · 2^(w−1 if w>0) · 2^(#nonzero values ≡ 0 mod 4) · multinomial of the ≡2 values
//        over w positions · multinomial of the ≡0 values (zeros included) over 24−w positions;
//        w must be a Golay weight, and w = 0 needs Σ|x| ≡ 0 mod 8.
//  odd:  4096 · multinomial of all 24 values; needs an odd number of values ≡ ±1 mod 8.
u128 class_size(const std::array<uint8_t, kDim>& leader, bool odd);

// The non-empty classes of shell m (2 ≤ m ≤ kMaxClassShell), in the fixed order used by
// indexing: even classes first, then odd ones, each in decreasing lexicographic leader order.
std::vector<LeechClass> classes_of_shell(int m);

}  // namespace llvq::shells
