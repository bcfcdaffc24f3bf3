// Quantizer design by numerical integration on a fine grid. With prefix sums of the
// probability mass and the first moment, one Lloyd iteration costs O(levels · log grid), so
// iterating to convergence is cheap even for 16 levels.
#include "codec/gain.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace llvq::codec_detail {

namespace {

constexpr int kGrid = 400000;

// Midpoint-rule discretisation of a density: points x_i with masses p_i.
struct Grid {
  std::vector<double> x, mass, cum_mass, cum_moment;  // cum_*[i] = sum over points < i
  Grid(const std::function<double(double)>& pdf, double lo, double hi) {
    const double dx = (hi - lo) / kGrid;
    x.resize(kGrid);
    mass.resize(kGrid);
    cum_mass.assign(kGrid + 1, 0);
    cum_moment.assign(kGrid + 1, 0);
    double total = 0;
    for (int i = 0; i < kGrid; ++i) {
      x[i] = lo + (i + 0.5) * dx;
      mass[i] = pdf(x[i]) * dx;
      total += mass[i];
    }
    for (int i = 0; i < kGrid; ++i) {
      mass[i] /= total;
      cum_mass[i + 1] = cum_mass[i] + mass[i];
      cum_moment[i + 1] = cum_moment[i] + mass[i] * x[i];
    }
  }
  size_t first_at_or_above(double t) const {
    return static_cast<size_t>(std::lower_bound(x.begin(), x.end(), t) - x.begin());
  }
  double mse(const ScalarQuantizer& q) const {
    double sum = 0;
    for (int i = 0; i < kGrid; ++i) {
      const double e = x[i] - q.levels[q.index(x[i])];
      sum += mass[i] * e * e;
    }
    return sum;
  }
};

void set_midpoint_thresholds(ScalarQuantizer& q) {
  q.thresholds.resize(q.levels.size() - 1);
  for (size_t k = 0; k + 1 < q.levels.size(); ++k) q.thresholds[k] = 0.5 * (q.levels[k] + q.levels[k + 1]);
}

}  // namespace

int ScalarQuantizer::index(double v) const {
  return static_cast<int>(std::upper_bound(thresholds.begin(), thresholds.end(), v) - thresholds.begin());
}

ScalarQuantizer lloyd_max(const std::function<double(double)>& pdf, double lo, double hi, int levels) {
  if (levels < 1) throw std::invalid_argument("lloyd_max: need at least one level");
  const Grid g(pdf, lo, hi);
  ScalarQuantizer q;
  // Start from the centroids of equal-probability cells.
  std::vector<size_t> edges(levels + 1);
  for (int k = 0; k <= levels; ++k)
    edges[k] = static_cast<size_t>(std::lower_bound(g.cum_mass.begin(), g.cum_mass.end(),
                                                    static_cast<double>(k) / levels) -
                                   g.cum_mass.begin());
  edges[0] = 0;
  edges[levels] = kGrid;
  q.levels.resize(levels);
  for (int iter = 0; iter < 100000; ++iter) {
    double moved = 0;
    for (int k = 0; k < levels; ++k) {
      const double m = g.cum_mass[edges[k + 1]] - g.cum_mass[edges[k]];
      const double c = m > 0 ? (g.cum_moment[edges[k + 1]] - g.cum_moment[edges[k]]) / m : q.levels[k];
      moved = std::max(moved, std::abs(c - q.levels[k]));
      q.levels[k] = c;
    }
    set_midpoint_thresholds(q);
    for (int k = 1; k < levels; ++k) edges[k] = g.first_at_or_above(q.thresholds[k - 1]);
    if (moved < 1e-13) break;
  }
  q.mse = g.mse(q);
  return q;
}

ScalarQuantizer best_uniform(const std::function<double(double)>& pdf, double lo, double hi, int levels,
                             double center) {
  const Grid g(pdf, lo, hi);
  auto make = [&](double step) {
    ScalarQuantizer q;
    for (int k = 0; k < levels; ++k) q.levels.push_back(center + (k - 0.5 * (levels - 1)) * step);
    set_midpoint_thresholds(q);
    q.mse = g.mse(q);
    return q;
  };
  // Golden-section search: the MSE is unimodal in the step for the densities used here.
  const double r = (std::sqrt(5.0) - 1) / 2;
  double a = 1e-4 * (hi - lo), b = (hi - lo) / std::max(1, levels - 1);
  double c = b - r * (b - a), d = a + r * (b - a);
  double fc = make(c).mse, fd = make(d).mse;
  for (int iter = 0; iter < 60; ++iter) {
    if (fc < fd) {
      b = d, d = c, fd = fc;
      c = b - r * (b - a), fc = make(c).mse;
    } else {
      a = c, c = d, fc = fd;
      d = a + r * (b - a), fd = make(d).mse;
    }
  }
  return make(0.5 * (a + b));
}

double gaussian_pdf(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * std::numbers::pi); }

std::function<double(double)> chi_pdf(int dof) {
  const double log_norm = (0.5 * dof - 1) * std::log(2.0) + std::lgamma(0.5 * dof);
  return [dof, log_norm](double r) {
    return r <= 0 ? 0.0 : std::exp((dof - 1) * std::log(r) - 0.5 * r * r - log_norm);
  };
}

double chi_upper(int dof) { return std::sqrt(static_cast<double>(dof)) + 14; }

}  // namespace llvq::codec_detail

#include <random>

namespace llvq::codec_detail {

ScalarQuantizer shape_gain_levels(int dof, int levels, double mean_cosine) {
  ScalarQuantizer q = lloyd_max(chi_pdf(dof), 0.0, chi_upper(dof), levels);
  for (double& v : q.levels) v *= mean_cosine;
  for (double& v : q.thresholds) v *= mean_cosine;
  return q;
}

double mean_cosine(int dim, int samples, const std::function<double(const float*)>& cosine) {
  std::mt19937_64 rng(0x9a1e5eed);  // fixed: the codec's design must not depend on the data
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<size_t>(dim));
  double sum = 0;
  for (int s = 0; s < samples; ++s) {
    for (float& v : x) v = normal(rng);
    sum += cosine(x.data());
  }
  return sum / samples;
}

}  // namespace llvq::codec_detail
