#include "llvq/voronoi_code.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "lattice/direction_scan.hpp"
#include "llvq/error.hpp"
#include "llvq/leech_shells.hpp"

namespace llvq {
namespace {

using leech::Vec;

// Codebook points lie in a·Vor(J), whose coordinates are bounded by a times the
// covering radius 4 of J; anything much larger cannot be a codebook point.
constexpr int32_t kMaxCodebookCoordinate = 1 << 20;

// Overload search (see overload_point). Radial shrink: 12 bisection steps find the factor
// to 2^-12 of its bracket (< 0.4 wide), far below the lattice spacing at the boundary.
// Facet projection: at most 8 steps, each landing 0.3 inside the facet (J's integer scale,
// packing radius 2.8), a margin picked by measuring the Gaussian MSE at 72 bits for margins
// 0, 0.3, 1 and 2.5 (docs/voronoi.md); z shrinks by 2% when it is inside the region but its
// nearest point is not.
constexpr int kShrinkSteps = 12;
constexpr int kFacetSteps = 8;
constexpr double kFacetMargin = 0.3;
constexpr double kInwardStep = 0.98;

// Direction search: the scan of lattice/direction_scan.hpp stops at the 9th codebook point
// met. Measured on 5,000 Gaussian blocks (docs/voronoi.md): the shape error is within 0.01%
// (a = 7) and 0.3% (a = 14) of scanning every radius down to a, at a sixth of the decodes.
constexpr int kDirectionHits = 9;

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

VoronoiCode::VoronoiCode(Modulus m) : modulus_(m.a) {
  size_ = 1;
  for (int k = 0; k < leech::kDim; ++k) size_ *= static_cast<Index>(modulus_);
  bits_ = shells::ceil_log2(size_);
}

VoronoiCode::VoronoiCode(int bits) : VoronoiCode(Modulus{bits == 72 ? 8 : 16}) {
  if (bits != 72 && bits != 96)
    throw InputError("VoronoiCode: bits must be 72 or 96, got " + std::to_string(bits));
}

VoronoiCode VoronoiCode::with_modulus(int modulus) {
  if (modulus < 2 || modulus > 16)
    throw InputError("VoronoiCode: modulus must be between 2 and 16, got " + std::to_string(modulus));
  return VoronoiCode(Modulus{modulus});
}

Vec VoronoiCode::representative(const Vec& v) const {
  if (!leech::is_member(v)) throw InputError("VoronoiCode::representative: point is not in the Leech lattice");
  return subtract(v, leech::nearest_point_scaled(v, modulus_));
}

bool VoronoiCode::is_own_representative(const Vec& v) const {
  const Vec q = leech::nearest_point_scaled(v, modulus_);
  return std::all_of(q.begin(), q.end(), [](int32_t e) { return e == 0; });
}

bool VoronoiCode::contains(const Vec& v) const {
  for (int32_t e : v)
    if (std::abs(static_cast<int64_t>(e)) > kMaxCodebookCoordinate) return false;
  return leech::is_member(v) && is_own_representative(v);
}

VoronoiCode::Index VoronoiCode::rank(const Vec& v) const {
  if (!contains(v)) throw InputError("VoronoiCode::rank: point is not in the codebook");
  return index_of(v);
}

VoronoiCode::Index VoronoiCode::index_of(const Vec& v) const {
  leech::Coords z;
  leech::basis_coordinates(v, z);
  Index index = 0;
  for (int k = leech::kDim - 1; k >= 0; --k) {
    const int64_t digit = ((z[k] % modulus_) + modulus_) % modulus_;
    index = index * static_cast<Index>(modulus_) + static_cast<Index>(digit);
  }
  return index;
}

Vec VoronoiCode::unrank(Index index) const {
  if (index >= size())
    throw InputError("VoronoiCode::unrank: index out of range for J/" + std::to_string(modulus_) + "J");
  leech::Coords z;
  for (int k = 0; k < leech::kDim; ++k) {
    z[k] = static_cast<int64_t>(index % static_cast<Index>(modulus_));
    index /= static_cast<Index>(modulus_);
  }
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
// the α where |α·y| + 4 (J's covering radius) reaches the inradius a·2√2 of the region:
// below it the nearest point lies inside the region's inscribed ball, so (barring a tie on
// that ball) it is in the codebook.
Vec VoronoiCode::shrink_point(const Target& y) const {
  const double inradius = modulus_ * 2.0 * std::sqrt(2.0);
  double norm = 0;
  for (double v : y) norm += v * v;
  norm = std::sqrt(norm);
  double inside = std::clamp((inradius - 4.0) / norm, 0.0, 1.0), outside = 1;
  Target z;
  for (int i = 0; i < leech::kDim; ++i) z[i] = inside * y[i];
  Vec best = leech::nearest_point(z.data());
  if (!contains(best)) best = Vec{}, inside = 0;  // only when exactly on the inradius
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

// The cell of a·J that contains z is that of a·s with s = nearest_point(z / a); the facet
// between it and the origin's cell is {⟨z, s⟩ = (a/2)·|s|²}. Move z onto that facet
// and kFacetMargin further in, and repeat (a corner needs several facets) until the nearest
// lattice point is in the codebook. False when that fails within kFacetSteps.
bool VoronoiCode::facet_point(const Target& y, Vec& out) const {
  const double period = static_cast<double>(modulus_);
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

// Measured: golden-section search (tolerance 0.01) over 10^5 N(0,1) blocks, the test
// VoronoiCode.DISABLED_MeasureGaussianDistortion; MSE 0.022527 at 72 bits and 0.006216 at
// 96 bits (docs/voronoi.md). A start-up search would cost minutes.
double VoronoiCode::default_gaussian_scale() const {
  if (modulus_ == 8) return 5.178;
  if (modulus_ == 16) return 9.704;
  throw InputError("VoronoiCode: no measured Gaussian scale for J/" + std::to_string(modulus_) + "J");
}

// No codebook point lies beyond the covering radius 4a of a·J, so the scan starts there. A
// radius ρ with 4 < ρ < 2√2·a − 4 has a non-zero nearest point strictly inside the region
// (J's covering radius is 4); for a ≥ 4 the scan passes one, so it always finds a point.
VoronoiCode::Direction VoronoiCode::search_direction(const float* x) const {
  if (modulus_ < 4) throw InputError("VoronoiCode::search_direction: needs a modulus of at least 4");
  const lattice_detail::ScanResult r = lattice_detail::search_direction(
      x, 4.0 * modulus_, kDirectionHits, [this](const Vec& p) { return is_own_representative(p); },
      "VoronoiCode::search_direction");
  return Direction{index_of(r.point), r.point, r.cosine};
}

}  // namespace llvq
