// The radius scan that finds directions in codebooks too large for an exact angular search
// (VoronoiCode and LeechBallIndex; docs/voronoi.md, "shape–gain codes"): the nearest
// lattice points of ρ·x/|x| for ρ stepping down from `top`, keeping the best angle among the
// first `hits` points that are in the codebook. A point farther out resolves finer angles,
// but its target's nearest point may fall outside the codebook; scanning downwards meets
// the farthest usable points first.
#pragma once

#include <cmath>
#include <string>

#include "llvq/error.hpp"
#include "llvq/leech.hpp"

namespace llvq::lattice_detail {

// J's packing radius is 2.8, so targets 0.5 apart often have different nearest points.
inline constexpr double kRadiusStep = 0.5;

struct ScanResult {
  leech::Vec point{};
  double cosine = -2;  // stays below every cosine when no point was found
};

// `in_codebook(p)` says whether the non-zero lattice point p is a codebook point. The scan
// ends after `hits` codebook points or at ρ ≤ 0. x must be finite and non-zero.
template <class InCodebook>
ScanResult scan_directions(const float* x, double top, int hits, InCodebook in_codebook) {
  double norm = 0;
  for (int i = 0; i < leech::kDim; ++i) norm += static_cast<double>(x[i]) * x[i];
  norm = std::sqrt(norm);
  ScanResult best;
  int met = 0;
  for (double rho = top; rho > 0 && met < hits; rho -= kRadiusStep) {
    double y[leech::kDim];
    for (int i = 0; i < leech::kDim; ++i) y[i] = rho * x[i] / norm;
    const leech::Vec p = leech::nearest_point(y);
    const int64_t p2 = leech::norm2(p);
    if (p2 == 0 || !in_codebook(p)) continue;
    ++met;
    double dot = 0;
    for (int i = 0; i < leech::kDim; ++i) dot += static_cast<double>(x[i]) * p[i];
    const double cosine = dot / (norm * std::sqrt(static_cast<double>(p2)));
    if (cosine > best.cosine) best = ScanResult{p, cosine};
  }
  return best;
}

// The direction search of a codebook: InputError (naming `who`) for non-finite input; the
// zero vector, which has no direction, gets the first axis's direction with cosine 0.
template <class InCodebook>
ScanResult search_direction(const float* x, double top, int hits, InCodebook in_codebook, const char* who) {
  bool nonzero = false;
  for (int i = 0; i < leech::kDim; ++i) {
    if (!std::isfinite(x[i])) throw InputError(std::string(who) + ": input is not finite");
    nonzero |= x[i] != 0;
  }
  if (nonzero) return scan_directions(x, top, hits, in_codebook);
  const float axis[leech::kDim] = {1.0f};
  ScanResult r = scan_directions(axis, top, hits, in_codebook);
  r.cosine = 0;
  return r;
}

}  // namespace llvq::lattice_detail
