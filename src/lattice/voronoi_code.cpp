#include "llvq/voronoi_code.hpp"

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

// Bisection steps of the overload fix: the shrink factor is found to 2^-kShrinkSteps.
constexpr int kShrinkSteps = 24;

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
  std::array<double, leech::kDim> y;
  for (int i = 0; i < leech::kDim; ++i) {
    if (!std::isfinite(x[i])) throw InputError("VoronoiCode::encode: input is not finite");
    y[i] = scale * x[i];
  }
  Vec p = leech::nearest_point(y.data());
  if (!contains(p)) {
    // Overload: shrink the input towards the origin (whose nearest point 0 is a codebook
    // point) and keep the largest tested factor whose nearest point is in the codebook.
    double inside = 0, outside = 1;
    p = Vec{};
    std::array<double, leech::kDim> z;
    for (int step = 0; step < kShrinkSteps; ++step) {
      const double mid = 0.5 * (inside + outside);
      for (int i = 0; i < leech::kDim; ++i) z[i] = mid * y[i];
      const Vec q = leech::nearest_point(z.data());
      if (contains(q)) {
        inside = mid;
        p = q;
      } else {
        outside = mid;
      }
    }
  }
  if (point) *point = p;
  return rank(p);
}

double VoronoiCode::default_gaussian_scale() const {
  return r_ == 3 ? 1.0 : 1.0;  // placeholder until measured
}

}  // namespace llvq
