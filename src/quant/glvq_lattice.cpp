// The per-group codebooks of GLVQ in lattice coordinates: Babai rounding of the shifted
// integer lattice Z^D + ½ inside a box of 2^b points per axis, or (D = 24) the exact nearest
// point of the Leech lattice J = √8·Λ24 inside the Voronoi code J / 2^b·J.
#include <algorithm>
#include <cmath>
#include <functional>
#include <mutex>

#include "llvq/error.hpp"
#include "llvq/leech.hpp"
#include "quant/glvq_detail.hpp"

namespace llvq::glvq_detail {
namespace {

double normal_pdf(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI); }
double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

// ∫_lo^hi (x − c)² φ(x) dx in closed form (lo, hi may be ±∞).
double interval_error(double lo, double hi, double c) {
  const double mass = normal_cdf(hi) - normal_cdf(lo);
  const double first = normal_pdf(lo) - normal_pdf(hi);  // ∫ x φ
  const double lo_term = std::isinf(lo) ? 0.0 : lo * normal_pdf(lo);
  const double hi_term = std::isinf(hi) ? 0.0 : hi * normal_pdf(hi);
  const double second = mass + lo_term - hi_term;  // ∫ x² φ
  return second - 2 * c * first + c * c * mass;
}

// MSE of the uniform quantizer with `levels` points (step `step`, symmetric, midpoint at 0)
// for a unit Gaussian.
double uniform_gaussian_mse(int levels, double step) {
  double total = 0;
  for (int k = 0; k < levels; ++k) {
    const double c = (k - 0.5 * (levels - 1)) * step;
    const double lo = k == 0 ? -INFINITY : c - 0.5 * step;
    const double hi = k == levels - 1 ? INFINITY : c + 0.5 * step;
    total += interval_error(lo, hi, c);
  }
  return total;
}

// The Voronoi-code representative of p's coset p + 2^b·J: its point in the Voronoi region of
// 2^b·J, canonical on the boundary (leech::nearest_point_scaled's tie order).
leech::Vec voronoi_representative(const leech::Vec& p, int bits) {
  const leech::Vec far = leech::nearest_point_scaled(p, 1 << bits);
  leech::Vec rep;
  for (int i = 0; i < leech::kDim; ++i) rep[i] = p[i] - far[i];
  return rep;
}

// Nearest point of J to y when it lies in the codebook; on overload the nearest point of the
// largest shrunk input f·y (f by bisection, 10 steps) whose nearest point does, so the code
// stays near y's direction instead of wrapping around to the opposite side.
leech::Vec leech_codebook_point(const double* y, int bits, bool* overload) {
  double largest = 0;
  for (int i = 0; i < leech::kDim; ++i) largest = std::max(largest, std::abs(y[i]));
  *overload = true;
  if (!std::isfinite(largest)) return leech::Vec{};
  // Far outside every codebook (and beyond the decoder's input range): search shrunk inputs only.
  constexpr double kFar = 1 << 20;
  double lo = 0, hi = largest < kFar ? 1.0 : kFar / largest;
  if (largest < kFar) {
    const leech::Vec p = leech::nearest_point(y);
    *overload = voronoi_representative(p, bits) != p;
    if (!*overload) return p;
  }
  leech::Vec best{};  // the origin is always in the codebook
  double shrunk[leech::kDim];
  for (int it = 0; it < 10; ++it) {
    const double f = 0.5 * (lo + hi);
    for (int i = 0; i < leech::kDim; ++i) shrunk[i] = f * y[i];
    const leech::Vec candidate = leech::nearest_point(shrunk);
    if (voronoi_representative(candidate, bits) == candidate) {
      best = candidate, lo = f;
    } else {
      hi = f;
    }
  }
  return best;
}

void leech_encode(const double* a, int bits, uint32_t* z, double* q, uint8_t* pass) {
  bool overload = false;
  const leech::Vec p = leech_codebook_point(a, bits, &overload);
  leech::Coords coords;
  if (!leech::basis_coordinates(p, coords)) throw std::logic_error("glvq: decoded point is not in the Leech lattice");
  const int64_t mask = (int64_t{1} << bits) - 1;
  for (int i = 0; i < leech::kDim; ++i) {
    z[i] = static_cast<uint32_t>(coords[i] & mask);  // two's complement: the residue mod 2^b
    q[i] = p[i];
    pass[i] = !overload;
  }
}

void leech_decode(const uint32_t* z, int bits, double* q) {
  leech::Coords coords;
  for (int i = 0; i < leech::kDim; ++i) coords[i] = z[i];
  const leech::Vec p = voronoi_representative(leech::from_basis_coordinates(coords), bits);
  for (int i = 0; i < leech::kDim; ++i) q[i] = p[i];
}

}  // namespace

double golden_section(const std::function<double(double)>& f, double lo, double hi, int iterations) {
  const double phi = (std::sqrt(5.0) - 1) / 2;
  double x1 = hi - phi * (hi - lo), x2 = lo + phi * (hi - lo);
  double f1 = f(x1), f2 = f(x2);
  for (int it = 0; it < iterations; ++it) {
    if (f1 < f2) {
      hi = x2, x2 = x1, f2 = f1;
      x1 = hi - phi * (hi - lo), f1 = f(x1);
    } else {
      lo = x1, x1 = x2, f1 = f2;
      x2 = lo + phi * (hi - lo), f2 = f(x2);
    }
  }
  return f1 < f2 ? x1 : x2;
}

double gaussian_uniform_step(int levels) {
  return golden_section([levels](double step) { return uniform_gaussian_mse(levels, step); }, 1e-3, 4.0, 80);
}

Coder Coder::make(const GlvqConfig& cfg) {
  Coder c;
  c.dim = cfg.dim;
  c.leech = cfg.decoder == "leech";
  return c;
}

void Coder::encode(const double* a, int bits, uint32_t* z, double* q, uint8_t* pass) const {
  if (leech) return leech_encode(a, bits, z, q, pass);
  const double top = std::ldexp(1.0, bits) - 1;
  const double center = 0.5 * top;
  for (int i = 0; i < dim; ++i) {
    const double shifted = a[i] + center;
    const double r = std::nearbyint(shifted);
    const double clamped = std::clamp(r, 0.0, top);
    pass[i] = r == clamped;
    z[i] = static_cast<uint32_t>(clamped);
    q[i] = clamped - center;
  }
}

void Coder::decode(const uint32_t* z, int bits, double* q) const {
  if (leech) return leech_decode(z, bits, q);
  const double center = 0.5 * (std::ldexp(1.0, bits) - 1);
  for (int i = 0; i < dim; ++i) q[i] = z[i] - center;
}

double Coder::initial_step(int bits) const {
  static std::once_flag once;
  static double steps[10];
  std::call_once(once, [] {
    for (int b = 1; b < 10; ++b) steps[b] = gaussian_uniform_step(1 << b);
  });
  // J has 2^36 = (2^1.5)^24 times the covolume of Z^24: the same point density per axis needs
  // G scaled down by 2^1.5.
  return leech ? steps[bits] / std::pow(2.0, 1.5) : steps[bits];
}

}  // namespace llvq::glvq_detail
