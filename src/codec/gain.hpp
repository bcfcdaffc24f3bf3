// Scalar quantizers designed on a known density: Lloyd–Max (optimal non-uniform levels) and
// the MSE-optimal uniform quantizer. Used for scalar weights (Gaussian density) and for the
// gains of shape–gain codecs (chi density: the norm of a block of i.i.d. unit Gaussians).
#pragma once

#include <functional>
#include <vector>

namespace llvq::codec_detail {

struct ScalarQuantizer {
  std::vector<double> levels;      // increasing reconstruction levels
  std::vector<double> thresholds;  // levels.size() − 1 decision thresholds
  double mse = 0;                  // expected squared error under the design density
  // Index of the level nearest to v (cell lookup by binary search).
  int index(double v) const;
};

// Lloyd–Max quantizer with `levels` levels for the density `pdf` supported on [lo, hi].
ScalarQuantizer lloyd_max(const std::function<double(double)>& pdf, double lo, double hi, int levels);
// Uniform quantizer (levels spaced by a step, symmetric about `center`) with the step that
// minimises the MSE under `pdf`.
ScalarQuantizer best_uniform(const std::function<double(double)>& pdf, double lo, double hi, int levels,
                             double center);

double gaussian_pdf(double x);
// Density of the norm of a vector of `dof` i.i.d. N(0,1) entries.
std::function<double(double)> chi_pdf(int dof);
double chi_upper(int dof);  // a point beyond which the chi density is negligible

}  // namespace llvq::codec_detail

namespace llvq::codec_detail {

// Gain levels of a shape–gain code in units of the row scale σ. The reconstruction is
// ĝ·σ·q̂ and the error |x|² − ⟨x,q̂⟩² + σ²(ĝ − ⟨x,q̂⟩/σ)², so the quantity to quantize is
// t = ⟨x,q̂⟩/σ ≈ |x|/σ · cos θ: the Lloyd–Max levels of the chi distribution with `dof`
// degrees of freedom, shrunk by the codec's mean cosine between blocks and directions.
ScalarQuantizer shape_gain_levels(int dof, int levels, double mean_cosine);

// Mean of ⟨x,q̂⟩/|x| over `samples` seeded unit-Gaussian blocks of dimension `dim`, where
// `cosine(x)` returns that cosine for the codec's direction search.
double mean_cosine(int dim, int samples, const std::function<double(const float*)>& cosine);

}  // namespace llvq::codec_detail
