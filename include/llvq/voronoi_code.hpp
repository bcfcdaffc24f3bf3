// Voronoi codes of the Leech lattice: the codebook is J / 2^r·J (J = √8·Λ24, integer
// coordinates, see leech.hpp) with each coset represented by its point in the Voronoi
// region of 2^r·J, so the codebook is a near-spherical set of 2^(24r) lattice points.
// bits = 24·r: 72 (r = 3, 3 bits per weight) or 96 (r = 4, 4 bits per weight).
//
// The index of a codebook point packs its 24 basis coordinates (leech::basis()) modulo 2^r,
// coordinate k in bits [r·k, r·k + r). Boundary ties between cosets are resolved by
// leech::nearest_point_scaled's order, so rank/unrank is a bijection. docs/voronoi.md has
// the design, the overload handling and the measured distortion.
#pragma once

#include <array>

#include "llvq/leech.hpp"

namespace llvq {

class VoronoiCode {
 public:
  using Index = unsigned __int128;

  // bits must be 72 or 96; anything else throws InputError.
  explicit VoronoiCode(int bits);

  int bits() const { return bits_; }
  // Bits per basis coordinate: r = bits / 24.
  int order_bits() const { return r_; }
  // Number of codebook points, 2^bits.
  Index size() const { return Index{1} << bits_; }

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
  // unrank(index) / s.
  double default_gaussian_scale() const;

 private:
  // Packed basis coordinates mod 2^r of a codebook point (not checked).
  Index index_of(const leech::Vec& v) const;
  using Target = std::array<double, leech::kDim>;
  leech::Vec overload_point(const Target& y) const;
  leech::Vec shrink_point(const Target& y) const;
  bool facet_point(const Target& y, leech::Vec& out) const;

  int bits_;
  int r_;
};

}  // namespace llvq

