// Voronoi codes of the Leech lattice: the codebook is J / a·J (J = √8·Λ24, integer
// coordinates, see leech.hpp) with each coset represented by its point in the Voronoi
// region of a·J, so the codebook is a near-spherical set of a^24 lattice points.
// VoronoiCode(bits) is the power-of-two code of llvq-ss: a = 2^r, bits = 24·r, 72 (r = 3,
// 3 bits per weight) or 96 (r = 4). with_modulus(a) takes any a in 2..16; llvq-sg uses
// J/14J as its direction codebook at 4 bits per weight.
//
// The index of a codebook point is the mixed-radix number of its 24 basis coordinates
// (leech::basis()) modulo a, Σ_k (z_k mod a)·a^k; for a = 2^r that is coordinate k in bits
// [r·k, r·k + r). Boundary ties between cosets are resolved by leech::nearest_point_scaled's
// order, so rank/unrank is a bijection. docs/voronoi.md has the design, the overload
// handling and the measured distortion.
#pragma once

#include <array>

#include "llvq/leech.hpp"

namespace llvq {

class VoronoiCode {
 public:
  using Index = unsigned __int128;

  // bits must be 72 or 96 (a = 8 or 16); anything else throws InputError.
  explicit VoronoiCode(int bits);
  // The code J / a·J; InputError unless 2 ≤ a ≤ 16.
  static VoronoiCode with_modulus(int modulus);

  // Bits of an index, ⌈24·log₂ a⌉.
  int bits() const { return bits_; }
  int modulus() const { return modulus_; }
  // Number of codebook points, a^24.
  Index size() const { return size_; }

  // Index of a codebook point; InputError when v is not one (see contains).
  Index rank(const leech::Vec& v) const;
  // Codebook point of an index; InputError when index >= size().
  leech::Vec unrank(Index index) const;
  // Whether v is a codebook point: in J and its own coset representative.
  bool contains(const leech::Vec& v) const;
  // The codebook point of v's coset v + 2^r·J (v must be in J, else InputError).
  leech::Vec representative(const leech::Vec& v) const;

  // Index of a codebook point near scale·x (x: 24 values): the nearest lattice point when
  // it is in the codebook. Otherwise (overload) the closer to scale·x of two points found
  // by bounded searches: the input shrunk towards the origin (bisection on the factor), and
  // the input projected onto the crossed facet of the Voronoi region of 2^r·J. The point
  // itself is written to *point when given. InputError for a non-finite or non-positive
  // scale or non-finite input.
  Index encode(const float* x, double scale, leech::Vec* point = nullptr) const;

  // The scale that minimises the mean squared error of encode for i.i.d. N(0,1) input
  // (measured, see docs/voronoi.md): quantize x with encode(x, s) and reconstruct
  // unrank(index) / s. Measured for a = 8 and 16 only; InputError for other moduli.
  double default_gaussian_scale() const;

  // Direction search (shape–gain codes): a non-zero codebook point v with a large
  // ⟨x,v⟩/|v|, found among the nearest lattice points of ρ·x/|x| for ρ stepping down from
  // the covering radius 4a of a·J (docs/voronoi.md). Approximate: not always the best angle
  // of the codebook. Deterministic; cosine = ⟨x,v⟩/(|x|·|v|) (0 for x = 0, which gets a
  // fixed direction). InputError for non-finite input or a modulus below 4.
  using Direction = leech::Direction;
  Direction search_direction(const float* x) const;

 private:
  struct Modulus {
    int a;
  };
  explicit VoronoiCode(Modulus m);  // a not checked; bits and size derived from it
  // Mixed-radix basis coordinates mod a of a codebook point (not checked).
  Index index_of(const leech::Vec& v) const;
  bool is_own_representative(const leech::Vec& v) const;
  using Target = std::array<double, leech::kDim>;
  leech::Vec overload_point(const Target& y) const;
  leech::Vec shrink_point(const Target& y) const;
  bool facet_point(const Target& y, leech::Vec& out) const;

  int modulus_;
  int bits_;
  Index size_;
};

}  // namespace llvq

