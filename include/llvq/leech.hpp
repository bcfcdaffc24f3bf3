// The Leech lattice Λ24 in integer coordinates J = √8·Λ24 ⊂ Z²⁴ (docs/background.md §1):
// x ∈ J iff either all x_i are even, {i : x_i ≡ 2 mod 4} is a Golay codeword and
// Σx_i ≡ 0 mod 8, or all x_i are odd, {i : x_i ≡ 3 mod 4} is a Golay codeword and
// Σx_i ≡ 4 mod 8. Shell m holds the points with |x|² = 16·m (|v|² = 2m in Λ24's scale).
//
// Besides membership this header offers the unbounded nearest-point decoder of J and an
// integer generator matrix; docs/voronoi.md explains the algorithms.
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

// --- Nearest point -----------------------------------------------------------------------
// The closest point of J to x (24 values in J's integer scale): maximum-likelihood decoding,
// exact up to floating-point rounding of the squared distances. Ties (x equidistant from
// several lattice points) are broken deterministically. Throws InputError when a coordinate
// is not finite or |x_i| ≥ 2^28.
Vec nearest_point(const double* x);
Vec nearest_point(const float* x);

// A direction found by the search of a codebook too large for an exact angular search
// (VoronoiCode, LeechBallIndex): its index, the point v and cos∠(x, v).
struct Direction {
  unsigned __int128 index;
  Vec point;
  double cosine;
};

// The closest point of the scaled lattice scale·J to the integer point v, in exact integer
// arithmetic. Among equidistant points it returns the p whose difference v − p is
// lexicographically smallest, an order that does not change when v moves by a lattice
// vector: v − nearest_point_scaled(v, s) is therefore a canonical representative of the
// coset v + s·J. 1 ≤ scale ≤ 16, |v_i| < 2^28; otherwise InputError.
Vec nearest_point_scaled(const Vec& v, int scale);

// --- Generator matrix --------------------------------------------------------------------
// Rows are basis vectors of J. The matrix is upper triangular (row k is zero before column
// k, its pivot at column k is positive), in Hermite normal form: entries above a pivot lie
// in [0, pivot). |det| = Π pivots = 8^12 = 2^36. Built at start-up from the Golay code.
using Basis = std::array<Vec, kDim>;
const Basis& basis();

using Coords = std::array<int64_t, kDim>;
// Integer coordinates z with x = Σ z_k · basis()[k]; false when x is not in J.
bool basis_coordinates(const Vec& x, Coords& z);
// Σ z_k · basis()[k]; InputError when a coordinate of the result leaves the int32 range.
Vec from_basis_coordinates(const Coords& z);

}  // namespace llvq::leech
