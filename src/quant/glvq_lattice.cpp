// The per-group codebooks of GLVQ in lattice coordinates: Babai rounding of the shifted
// integer lattice Z^D + ½ inside a box of 2^b points per axis.
#include <algorithm>
#include <cmath>
#include <functional>
#include <mutex>

#include "llvq/error.hpp"
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
  if (c.leech) throw InputError("glvq: decoder=leech is not available in this build");
  return c;
}

void Coder::encode(const double* a, int bits, uint32_t* z, double* q, uint8_t* pass) const {
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
  const double center = 0.5 * (std::ldexp(1.0, bits) - 1);
  for (int i = 0; i < dim; ++i) q[i] = z[i] - center;
}

double Coder::initial_step(int bits) const {
  static std::once_flag once;
  static double steps[10];
  std::call_once(once, [] {
    for (int b = 1; b < 10; ++b) steps[b] = gaussian_uniform_step(1 << b);
  });
  return steps[bits];
}

}  // namespace llvq::glvq_detail
