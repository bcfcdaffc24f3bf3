#include "llvq/voronoi_code.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "llvq/error.hpp"

namespace llvq {
namespace {

using leech::Vec;

// Codebook points lie in 2^r·Vor(J), whose coordinates are bounded by 2^r times the
// covering radius 4 of J; anything much larger cannot be a codebook point.
constexpr int32_t kMaxCodebookCoordinate = 1 << 20;

// Overload search (see overload_point). Bisection steps of the radial shrink: the factor
// is found to 2^-12 of its bracket (< 0.4), far below the lattice spacing at the boundary. Facet projections: at most 8, each landing 0.3 (in J's integer scale,
// where the packing radius is 2.8) inside the facet, a margin picked by measuring the
// Gaussian MSE at 72 bits for margins 0, 0.3, 1 and 2.5 (docs/voronoi.md); z shrinks by 2%
// when it is inside the region but its nearest point is not.
constexpr int kShrinkSteps = 12;
constexpr int kFacetSteps = 8;
constexpr double kFacetMargin = 0.3;
constexpr double kInwardStep = 0.98;

double distance2(const std::array<double, leech::kDim>& y, const Vec& p) {
  double d = 0;
  for (int i = 0; i < leech::kDim; ++i) d += (y[i] - p[i]) * (y[i] - p[i]);
  return d;
}

Vec subtract(const Vec& a, const Vec& b) {
  Vec d;
  for (int i = 0; i < leech::kDim; ++i) d[i] = a[i] - b[i];
  return d;
}

}  // namespace

VoronoiCode::VoronoiCode(int bits) : bits_(bits), r_(bits / leech::kDim) {
  if (bits != 72 && bits != 96)
    throw InputError("VoronoiCode: bits must be 72 or 96, got " + std::to_string(bits));
}

Vec VoronoiCode::representative(const Vec& v) const {
  if (!leech::is_member(v)) throw InputError("VoronoiCode::representative: point is not in the Leech lattice");
  return subtract(v, leech::nearest_point_scaled(v, 1 << r_));
}

bool VoronoiCode::contains(const Vec& v) const {
  for (int32_t e : v)
    if (std::abs(static_cast<int64_t>(e)) > kMaxCodebookCoordinate) return false;
  if (!leech::is_member(v)) return false;
  const Vec q = leech::nearest_point_scaled(v, 1 << r_);
  for (int32_t e : q)
    if (e != 0) return false;
  return true;
}

VoronoiCode::Index VoronoiCode::rank(const Vec& v) const {
  if (!contains(v)) throw InputError("VoronoiCode::rank: point is not in the codebook");
  return index_of(v);
}

VoronoiCode::Index VoronoiCode::index_of(const Vec& v) const {
  leech::Coords z;
  leech::basis_coordinates(v, z);
  const int64_t mask = (int64_t{1} << r_) - 1;
  Index index = 0;
  for (int k = 0; k < leech::kDim; ++k) index |= static_cast<Index>(z[k] & mask) << (r_ * k);  // & = mod 2^r
  return index;
}

Vec VoronoiCode::unrank(Index index) const {
  if (index >= size()) throw InputError("VoronoiCode::unrank: index out of range for " + std::to_string(bits_) + " bits");
  const Index mask = (Index{1} << r_) - 1;
  leech::Coords z;
  for (int k = 0; k < leech::kDim; ++k) z[k] = static_cast<int64_t>((index >> (r_ * k)) & mask);
  return representative(leech::from_basis_coordinates(z));
}

VoronoiCode::Index VoronoiCode::encode(const float* x, double scale, Vec* point) const {
  if (!std::isfinite(scale) || scale <= 0) throw InputError("VoronoiCode::encode: scale must be finite and positive");
  Target y;
  for (int i = 0; i < leech::kDim; ++i) {
    if (!std::isfinite(x[i])) throw InputError("VoronoiCode::encode: input is not finite");
    y[i] = scale * x[i];
  }
  Vec p = leech::nearest_point(y.data());
  if (!contains(p)) p = overload_point(y);
  if (point) *point = p;
  return index_of(p);
}

// Overload: the nearest lattice point of y lies outside the codebook, and its coset
// representative (the plain Voronoi encoder's answer) lies on the far side of the codebook.
// Two candidates inside the codebook, the closer to y wins:
// - radial: shrink y towards the origin (whose nearest point 0 is in the codebook);
// - facet: project y onto the facet of the Voronoi region of 2^r·J that it crossed, which
//   is closer to y than the radial point when y leaves the region obliquely.
Vec VoronoiCode::overload_point(const Target& y) const {
  const Vec radial = shrink_point(y);
  Vec facet;
  if (!facet_point(y, facet) || distance2(y, facet) >= distance2(y, radial)) return radial;
  return facet;
}

// Bisection on the factor α ∈ [0, 1] for the boundary where nearest_point(α·y) leaves the
// codebook; returns the nearest point of the largest α found inside. The bracket starts at
// the α where |α·y| + 4 (J's covering radius) reaches the inradius 2^r·2√2 of the region:
// below it the nearest point lies strictly inside the region, so it is in the codebook.
Vec VoronoiCode::shrink_point(const Target& y) const {
  const double inradius = (1 << r_) * 2.0 * std::sqrt(2.0);
  double norm = 0;
  for (double v : y) norm += v * v;
  norm = std::sqrt(norm);
  double inside = std::clamp((inradius - 4.0) / norm, 0.0, 1.0), outside = 1;
  Target z;
  for (int i = 0; i < leech::kDim; ++i) z[i] = inside * y[i];
  Vec best = leech::nearest_point(z.data());
  for (int step = 0; step < kShrinkSteps; ++step) {
    const double mid = 0.5 * (inside + outside);
    for (int i = 0; i < leech::kDim; ++i) z[i] = mid * y[i];
    const Vec q = leech::nearest_point(z.data());
    if (contains(q)) {
      inside = mid;
      best = q;
    } else {
      outside = mid;
    }
  }
  return best;
}

// The cell of 2^r·J that contains z is that of 2^r·s with s = nearest_point(z / 2^r); the
// facet between it and the origin's cell is {⟨z, s⟩ = 2^(r-1)·|s|²}. Move z onto that facet
// and kFacetMargin further in, and repeat (a corner needs several facets) until the nearest
// lattice point is in the codebook. False when that fails within kFacetSteps.
bool VoronoiCode::facet_point(const Target& y, Vec& out) const {
  const double period = static_cast<double>(1 << r_);
  Target z = y, w;
  for (int step = 0; step < kFacetSteps; ++step) {
    for (int i = 0; i < leech::kDim; ++i) w[i] = z[i] / period;
    const Vec s = leech::nearest_point(w.data());
    double zs = 0, ss = 0;
    for (int i = 0; i < leech::kDim; ++i) zs += z[i] * s[i], ss += static_cast<double>(s[i]) * s[i];
    if (ss == 0) {  // z is inside the region but its nearest lattice point is not: step inwards
      for (double& v : z) v *= kInwardStep;
    } else {
      const double t = (zs - 0.5 * period * ss) / ss + kFacetMargin / std::sqrt(ss);
      for (int i = 0; i < leech::kDim; ++i) z[i] -= t * s[i];
    }
    out = leech::nearest_point(z.data());
    if (contains(out)) return true;
  }
  return false;
}

double VoronoiCode::default_gaussian_scale() const {
  return r_ == 3 ? 5.2 : 9.6;  // placeholder until measured
}

}  // namespace llvq
