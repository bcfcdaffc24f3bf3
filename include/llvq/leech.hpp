// The Leech lattice Λ24 in integer coordinates J = √8·Λ24 ⊂ Z²⁴ (REFERENCE.md §1):
// x ∈ J iff either all x_i are even, {i : x_i ≡ 2 mod 4} is a Golay codeword and
// Σx_i ≡ 0 mod 8, or all x_i are odd, {i : x_i ≡ 3 mod 4} is a Golay codeword and
// Σx_i ≡ 4 mod 8. Shell m holds the points with |x|² = 16·m (|v|² = 2m in Λ24's scale).
#pragma once

#include <array>
#include <cstdint>

namespace llvq::leech {

inline constexpr int kDim = 24;
using Vec = std::array<int32_t, kDim>;

int64_t norm2(const Vec& x);
bool is_member(const Vec& x);
// Shell m of a lattice point (|x|² = 16·m); -1 when x is not in J.
int shell_of(const Vec& x);

}  // namespace llvq::leech
