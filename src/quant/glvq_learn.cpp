// GLVQ quantization: per-group initialisation (Cholesky factor of the companded covariance,
// μ from the kurtosis, a step search), gradient learning of G and μ with straight-through
// rounding and Adam, salience-driven bit allocation, and the tensor assembly.
#include <Eigen/Cholesky>
#include <Eigen/LU>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

#include "llvq/error.hpp"
#include "llvq/parallel.hpp"
#include "quant/glvq_detail.hpp"

namespace llvq {
namespace glvq_detail {
namespace {

// Rows used to fit a group's parameters: G is shared by all rows, so a random subset of a tall
// layer fits it nearly as well at a fraction of the cost (the codes still cover every row).
constexpr Eigen::Index kLearnRows = 1024;
// Gradient steps without a new best objective before learning stops.
constexpr int kPatience = 20;
// Ridge added to the companded covariance (relative to its mean diagonal) so that padded or
// constant coordinates still give an invertible G.
constexpr double kRidge = 1e-4;
// Range of the companding scale: positive normal fp16 values.
constexpr double kScaleMin = 6.103515625e-05, kScaleMax = 65504.0;

// ∂F/∂μ at fixed x.
double compand_dmu(double x, double mu, double scale) {
  const double t = std::abs(x / scale);
  const double a = std::log1p(mu * t), b = std::log1p(mu);
  const double magnitude = (t / (1 + mu * t) * b - a / (1 + mu)) / (b * b);  // may be negative
  return x < 0 ? -magnitude : magnitude;
}

// ∂F⁻¹/∂y.
double expand_dy(double y, double mu, double scale) {
  if (mu == 0) return 1;
  const double b = std::log1p(mu);
  return scale * b * std::exp(b * std::abs(y)) / mu;
}

// ∂F⁻¹/∂μ at fixed y.
double expand_dmu(double y, double mu, double scale) {
  const double b = std::log1p(mu), ay = std::abs(y);
  const double magnitude = (ay * std::exp(b * ay) * mu / (1 + mu) - std::expm1(b * ay)) / (mu * mu);
  return scale * (y < 0 ? -magnitude : magnitude);
}

Eigen::MatrixXd compand_all(const Eigen::Map<const Eigen::MatrixXd>& w, const GroupParams& p) {
  Eigen::MatrixXd u(w.rows(), w.cols());
  for (Eigen::Index k = 0; k < w.size(); ++k) u.data()[k] = compand(w.data()[k], p.mu, p.scale);
  return u;
}

// μ from the kurtosis κ = E[x⁴]/E[x²]²: 10 for a Gaussian (κ = 3), growing with the tails.
double mu_from_kurtosis(const RowMatrixD& w) {
  const double m2 = w.array().square().mean(), m4 = w.array().square().square().mean();
  const double kurtosis = m2 > 0 ? m4 / (m2 * m2) : 3.0;
  return std::clamp(kMuMin * (kurtosis / 3) * (kurtosis / 3), kMuMin, kMuMax);
}

GroupParams rounded_to_fp16(const GroupParams& p) {
  GroupParams r = p;
  for (Eigen::Index k = 0; k < r.g.size(); ++k) r.g.data()[k] = round_fp16(std::clamp(r.g.data()[k], -65504.0, 65504.0));
  if (r.mu != 0) {
    r.mu = std::clamp(round_fp16(r.mu), kMuMin, kMuMax);
    r.scale = round_fp16(std::clamp(r.scale, kScaleMin, kScaleMax));
  }
  return r;
}

double loss_at(const Objective& obj, const GroupParams& p) {
  Objective plain = obj;
  plain.g0 = nullptr;
  return evaluate(plain, p);
}

// Lower Cholesky factor of a covariance, made positive definite by the ridge.
Eigen::MatrixXd ridged_cholesky(Eigen::MatrixXd cov) {
  cov.diagonal().array() += kRidge * cov.diagonal().mean() + 1e-300;
  return cov.llt().matrixL();
}

// The mean of the group's D×D diagonal blocks of H: the metric every D-vector of the group is
// weighted by when cross-block terms are left out. The identity when H is zero there (padding).
Eigen::MatrixXd mean_block_metric(const GroupData& data, int d) {
  const Eigen::Index blocks = data.h.rows() / d;
  Eigen::MatrixXd m = Eigen::MatrixXd::Zero(d, d);
  for (Eigen::Index k = 0; k < blocks; ++k) m += data.h.block(k * d, k * d, d, d);
  if (!(m.diagonal().mean() > 0)) return Eigen::MatrixXd::Identity(d, d);
  return m / static_cast<double>(blocks);
}

// G for a given (μ, scale): the Cholesky factor C of the companded covariance (init=covariance),
// or with init=hessian L⁻ᵀ·C', where H̄ = L·Lᵀ is the group's mean diagonal block of H and C'
// the factor of the covariance of Lᵀu — the lattice that Babai rounding makes uniform in the
// weighted error ‖Lᵀe‖ rather than in ‖e‖. Times one common factor: the Gaussian step is only
// a guess for companded, weighted data, so the factor is refined by a golden-section search of
// the real objective over [½, 2] (log scale).
GroupParams fit_start(const GroupData& data, int bits, const Coder& coder, double mu, double scale, bool hessian,
                      double* loss) {
  const int d = coder.dim;
  const Eigen::Index n = data.w.size() / d;
  GroupParams p;
  p.mu = mu;
  p.scale = scale;
  const Eigen::Map<const Eigen::MatrixXd> w(data.w.data(), d, n);
  const Eigen::MatrixXd u = compand_all(w, p);
  Eigen::MatrixXd shape;
  if (hessian) {
    const Eigen::MatrixXd l = ridged_cholesky(mean_block_metric(data, d));
    const Eigen::MatrixXd v = l.transpose() * u;
    shape = l.transpose().triangularView<Eigen::Upper>().solve(ridged_cholesky(v * v.transpose() / static_cast<double>(n)));
  } else {
    shape = ridged_cholesky(u * u.transpose() / static_cast<double>(n));
  }
  p.g = coder.initial_step(std::max(bits, 1)) * shape;
  const Objective obj{&data, &coder, bits};
  if (bits > 0) {
    const Eigen::MatrixXd base = p.g;
    auto loss_of = [&](double log_factor) {
      GroupParams trial = p;
      trial.g = std::exp(log_factor) * base;
      return loss_at(obj, trial);
    };
    p.g = std::exp(golden_section(loss_of, std::log(0.5), std::log(2.0), 10)) * base;
  }
  *loss = loss_at(obj, p);
  return p;
}

// μ from the kurtosis; the scale is the group's largest |w| or a power of two above it (a
// larger scale makes F more linear, which suits light tails), whichever starts best.
GroupParams initial_params(const GroupData& data, int bits, const Coder& coder, const GlvqConfig& cfg) {
  double loss = 0;
  const bool hessian = cfg.init == "hessian";
  if (!cfg.companding) return fit_start(data, bits, coder, 0.0, 1.0, hessian, &loss);
  const double mu = round_fp16(mu_from_kurtosis(data.w));
  const double maxabs = data.w.cwiseAbs().maxCoeff();
  GroupParams best;
  double best_loss = INFINITY;
  for (double factor : {1.0, 2.0, 4.0, 8.0}) {
    const double scale = round_fp16(std::clamp(factor * maxabs, kScaleMin, kScaleMax));
    GroupParams p = fit_start(data, bits, coder, mu, scale, hessian, &loss);
    if (loss < best_loss || best.g.size() == 0) best = std::move(p), best_loss = loss;
  }
  return best;
}

constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kAdamEps = 1e-30;

// Adam on one scalar parameter, projected onto [lo, hi].
struct ScalarAdam {
  double m = 0, v = 0;
  double step(double x, double grad, double lr, double c1, double c2, double lo, double hi) {
    m = kBeta1 * m + (1 - kBeta1) * grad;
    v = kBeta2 * v + (1 - kBeta2) * grad * grad;
    return std::clamp(x - lr * (m / c1) / (std::sqrt(v / c2) + kAdamEps), lo, hi);
  }
};

// Adam on G, ln μ (projected onto [ln 10, ln 255]) and ln scale; keeps the best point seen.
// Returns the number of gradient steps taken.
int learn(const Objective& base, GroupParams& p, const GlvqConfig& cfg) {
  const Eigen::MatrixXd g0 = p.g;
  Objective obj = base;
  obj.g0 = &g0;
  // Penalty weight relative to the group's own scale: penalty·(initial loss) per unit of
  // relative squared change ‖G − G0‖²/‖G0‖².
  obj.penalty = cfg.penalty * loss_at(base, p) / std::max(g0.squaredNorm(), 1e-300);
  const double lr_g = cfg.learning_rate * g0.diagonal().cwiseAbs().mean();
  const double lr_scalar = 10 * cfg.learning_rate;  // on ln μ and ln scale

  Eigen::MatrixXd m1 = Eigen::MatrixXd::Zero(g0.rows(), g0.cols()), m2 = m1;
  ScalarAdam mu_adam, scale_adam;
  double log_mu = p.mu > 0 ? std::log(p.mu) : 0, log_scale = std::log(p.scale);
  GroupParams best = p;
  double best_value = INFINITY;
  int since_best = 0, steps = 0;
  for (int it = 0; it < cfg.iterations; ++it) {
    Gradient grad;
    const double value = evaluate(obj, p, &grad);
    if (!std::isfinite(value) || !grad.g.allFinite()) break;
    if (value < best_value * (1 - 1e-9)) {
      best = p, best_value = value, since_best = 0;
    } else if (++since_best >= kPatience) {
      break;
    }
    ++steps;
    const double c1 = 1 - std::pow(kBeta1, steps), c2 = 1 - std::pow(kBeta2, steps);
    m1 = kBeta1 * m1 + (1 - kBeta1) * grad.g;
    m2 = kBeta2 * m2 + (1 - kBeta2) * grad.g.cwiseAbs2();
    p.g.array() -= lr_g * (m1.array() / c1) / ((m2.array() / c2).sqrt() + kAdamEps);
    if (p.mu > 0) {
      log_mu = mu_adam.step(log_mu, grad.log_mu, lr_scalar, c1, c2, std::log(kMuMin), std::log(kMuMax));
      p.mu = std::clamp(std::exp(log_mu), kMuMin, kMuMax);
      log_scale = scale_adam.step(log_scale, grad.log_scale, lr_scalar, c1, c2, std::log(kScaleMin), std::log(kScaleMax));
      p.scale = std::exp(log_scale);
    }
  }
  p = best;
  return steps;
}

GroupData extract_group(const RowMatrixD& w, const Eigen::MatrixXd& h, const Layout& l, int g) {
  const int width = l.width(g);
  const int64_t c0 = l.col0(g);
  const Eigen::Index real = static_cast<Eigen::Index>(std::min<int64_t>(width, l.cols - c0));
  GroupData data;
  data.w = RowMatrixD::Zero(l.rows, width);
  data.w.leftCols(real) = w.middleCols(c0, real);
  data.h = Eigen::MatrixXd::Zero(width, width);
  data.h.topLeftCorner(real, real) = h.block(c0, c0, real, real);
  return data;
}

GroupData subsample_rows(const GroupData& full, uint64_t seed) {
  if (full.w.rows() <= kLearnRows) return full;
  std::vector<Eigen::Index> idx(static_cast<size_t>(full.w.rows()));
  std::iota(idx.begin(), idx.end(), Eigen::Index{0});
  std::mt19937_64 rng(seed);
  for (Eigen::Index i = 0; i < kLearnRows; ++i) {
    std::uniform_int_distribution<Eigen::Index> pick(i, full.w.rows() - 1);
    std::swap(idx[static_cast<size_t>(i)], idx[static_cast<size_t>(pick(rng))]);
  }
  std::sort(idx.begin(), idx.begin() + kLearnRows);
  GroupData sub;
  sub.h = full.h;
  sub.w.resize(kLearnRows, full.w.cols());
  for (Eigen::Index i = 0; i < kLearnRows; ++i) sub.w.row(i) = full.w.row(idx[static_cast<size_t>(i)]);
  return sub;
}

// Salience = Hessian-weighted energy Σ_j H_jj·Σ_r w_rj². Moving one bit per coordinate from a
// group of salience S_lo to one of S_hi changes the distortion, at ~2^(−2b) per bit, by
// S_lo·3·2^(−2B) − S_hi·¾·2^(−2B): it pays when S_hi > 4·S_lo. Pairs are formed from the
// two ends of the ranking while that holds; only full-width groups move, so the average
// stays exactly B.
std::vector<uint8_t> allocate_bits(const RowMatrixD& w, const Eigen::MatrixXd& h, const Layout& l,
                                   const GlvqConfig& cfg) {
  std::vector<uint8_t> bits(static_cast<size_t>(l.groups), static_cast<uint8_t>(cfg.bits));
  if (!cfg.salience || cfg.bits - 1 < min_group_bits(cfg) || cfg.bits + 1 > max_group_bits(cfg)) return bits;
  std::vector<int> order;
  std::vector<double> score(static_cast<size_t>(l.groups), 0.0);
  for (int g = 0; g < l.groups; ++g) {
    if (l.width(g) != l.group_width) continue;
    order.push_back(g);
    const int64_t c0 = l.col0(g), c1 = std::min<int64_t>(c0 + l.width(g), l.cols);
    for (int64_t j = c0; j < c1; ++j) score[static_cast<size_t>(g)] += h(j, j) * w.col(j).squaredNorm();
  }
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return score[a] > score[b]; });
  for (size_t i = 0, k = order.size(); i + 1 < k; ++i) {
    --k;
    if (!(score[order[i]] > 4 * score[order[k]])) break;
    ++bits[order[i]];
    --bits[order[k]];
  }
  return bits;
}

void check_input(const RowMatrixD& w, const Eigen::MatrixXd& h) {
  if (w.rows() == 0 || w.cols() == 0) throw InputError("glvq: empty weight matrix");
  if (h.rows() != w.cols() || h.cols() != w.cols())
    throw InputError("glvq: Hessian is " + std::to_string(h.rows()) + "×" + std::to_string(h.cols()) +
                     ", expected " + std::to_string(w.cols()) + "×" + std::to_string(w.cols()));
  if (!w.allFinite() || !h.allFinite()) throw InputError("glvq: weights or Hessian hold non-finite values");
}

struct GroupResult {
  GroupParams init, final;
  std::vector<uint32_t> codes_init, codes_final;
  int steps = 0;
};

GroupResult quantize_group(const RowMatrixD& w, const Eigen::MatrixXd& h, const Layout& l, int g, int bits,
                           const Coder& coder, const GlvqConfig& cfg, bool want_init_codes) {
  const GroupData full = extract_group(w, h, l, g);
  const GroupData fit = subsample_rows(full, cfg.seed ^ (0x9E3779B97F4A7C15ull * static_cast<uint64_t>(g + 1)));
  const Objective obj{&fit, &coder, bits};
  GroupResult r;
  GroupParams start = initial_params(fit, bits, coder, cfg);
  r.init = rounded_to_fp16(start);
  r.final = r.init;
  if (cfg.learn && bits > 0 && cfg.iterations > 0) {
    r.steps = learn(obj, start, cfg);
    // The decoder sees fp16 parameters: keep the learned ones only if they still win after
    // rounding.
    GroupParams learned = rounded_to_fp16(start);
    if (loss_at(obj, learned) < loss_at(obj, r.init)) r.final = learned;
  }
  if (!cfg.feedback) r.codes_final = encode_group(full.w, r.final, bits, coder);  // else feedback_codes
  if (want_init_codes) r.codes_init = encode_group(full.w, r.init, bits, coder);
  return r;
}

class BitWriter {
 public:
  void write(uint32_t v, int bits) {
    for (int i = 0; i < bits; ++i, ++pos_) {
      if ((pos_ & 7) == 0) bytes_.push_back(0);
      bytes_.back() |= static_cast<uint8_t>(((v >> i) & 1u) << (pos_ & 7));
    }
  }
  std::vector<uint8_t> take() { return std::move(bytes_); }

 private:
  std::vector<uint8_t> bytes_;
  size_t pos_ = 0;
};

GlvqTensor assemble(const GlvqConfig& cfg, const RowMatrixD& w, const std::vector<uint8_t>& bits,
                    const std::vector<GroupResult>& results, bool final) {
  GlvqTensor t;
  t.config = cfg;
  t.rows = w.rows();
  t.cols = w.cols();
  t.group_bits = bits;
  BitWriter writer;
  for (size_t g = 0; g < results.size(); ++g) {
    const GroupParams& p = final ? results[g].final : results[g].init;
    for (int i = 0; i < cfg.dim; ++i)
      for (int j = 0; j < cfg.dim; ++j) t.g_fp16.push_back(to_fp16(p.g(i, j)));
    if (cfg.companding) {
      t.mu_fp16.push_back(to_fp16(p.mu));
      t.scale_fp16.push_back(to_fp16(p.scale));
    }
    for (uint32_t z : final ? results[g].codes_final : results[g].codes_init) writer.write(z, bits[g]);
  }
  t.codes = writer.take();
  return t;
}

// Per-row scales (fp16): each row's RMS over its real columns. G, μ and s are shared by all
// rows of a group, so rows of very different norms cannot all be served by one codebook;
// dividing by the RMS gives every row unit energy first. A zero row keeps scale 1.
std::vector<uint16_t> row_scales(const RowMatrixD& w) {
  std::vector<uint16_t> scales(static_cast<size_t>(w.rows()));
  for (Eigen::Index r = 0; r < w.rows(); ++r) {
    const double rms = std::sqrt(w.row(r).squaredNorm() / static_cast<double>(w.cols()));
    scales[static_cast<size_t>(r)] = to_fp16(rms > 0 ? std::clamp(rms, kScaleMin, kScaleMax) : 1.0);
  }
  return scales;
}

RowMatrixD divide_rows(const RowMatrixD& w, const std::vector<uint16_t>& scales) {
  RowMatrixD out = w;
  for (Eigen::Index r = 0; r < w.rows(); ++r) out.row(r) /= from_fp16(scales[static_cast<size_t>(r)]);
  return out;
}

// One D-vector through a group's frozen parameters: its codes go to z, its decoded values to
// out. The same arithmetic as encode_group followed by decode_group.
void code_vector(const double* w, const GroupParams& p, const Eigen::MatrixXd& ginv, int bits, const Coder& coder,
                 uint32_t* z, float* out) {
  const int d = coder.dim;
  if (bits == 0) {
    std::fill(z, z + d, 0u);
    std::fill(out, out + d, 0.0f);
    return;
  }
  Eigen::VectorXd u(d), q(d), v(d);
  std::vector<uint8_t> pass(static_cast<size_t>(d));
  for (int i = 0; i < d; ++i) u(i) = compand(w[i], p.mu, p.scale);
  const Eigen::VectorXd a = ginv * u;
  coder.encode(a.data(), bits, z, q.data(), pass.data());
  v.noalias() = p.g * q;
  for (int i = 0; i < d; ++i) out[i] = static_cast<float>(expand(v(i), p.mu, p.scale));
}

// GPTQ over the learned, then frozen, group parameters (feedback=1): the padded row is coded
// one D-vector at a time, left to right, and each vector's error is pushed onto the columns
// not yet coded (gptq_quantize, block = D), so later vectors — across group boundaries too —
// compensate in the Hessian metric. Learning alone cannot do this: it shapes one codebook
// per group but rounds every vector on its own. Replaces every group's final codes.
void feedback_codes(const RowMatrixD& w, const Eigen::MatrixXd& h, const Layout& l, const std::vector<uint8_t>& bits,
                    const Coder& coder, std::vector<GroupResult>& results) {
  RowMatrixD wp = RowMatrixD::Zero(l.rows, l.padded_cols);
  wp.leftCols(l.cols) = w;
  Eigen::MatrixXd hp = Eigen::MatrixXd::Zero(l.padded_cols, l.padded_cols);  // padding: dead columns
  hp.topLeftCorner(l.cols, l.cols) = h;
  std::vector<Eigen::MatrixXd> ginv;
  for (const GroupResult& r : results) ginv.push_back(r.final.g.inverse());
  std::vector<uint32_t> z(static_cast<size_t>(l.rows * l.padded_cols));  // [row][padded column]
  GptqOptions options;
  options.block = static_cast<size_t>(l.dim);
  gptq_quantize(wp, hp, options, [&](size_t row, size_t col0, size_t, const double* current, float* out) {
    const auto g = static_cast<size_t>(col0 / static_cast<size_t>(l.group_width));
    code_vector(current + col0, results[g].final, ginv[g], bits[g], coder,
                &z[row * static_cast<size_t>(l.padded_cols) + col0], out);
  });
  for (int g = 0; g < l.groups; ++g) {
    const int width = l.width(g);
    std::vector<uint32_t>& codes = results[static_cast<size_t>(g)].codes_final;
    codes.resize(static_cast<size_t>(l.rows * width));
    for (int64_t r = 0; r < l.rows; ++r)
      std::copy_n(&z[static_cast<size_t>(r * l.padded_cols + l.col0(g))], width, &codes[static_cast<size_t>(r * width)]);
  }
}

double tensor_error(const GlvqTensor& t, const RowMatrixD& w, const Eigen::MatrixXd& h) {
  const std::vector<float> q = t.dequantize();
  const RowMatrixD qd = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
                            q.data(), t.rows, t.cols)
                            .cast<double>();
  return relative_weighted_error(w, qd, h);
}

}  // namespace

// Forward: u = F(w), a = G⁻¹u, q = Q(a), v = G·q, ŵ = F⁻¹(v), loss = Σ E∘(E·H).
// Backward (straight-through: ∂q/∂a = 1 where pass, 0 elsewhere):
//   g_ŵ = 2·E·H, g_v = g_ŵ ⊙ F⁻¹'(v), ∂G = g_v·qᵀ − G⁻ᵀ·g_a·aᵀ with g_a = pass ⊙ Gᵀ·g_v,
//   ∂μ = Σ g_ŵ ⊙ ∂F⁻¹/∂μ + Σ (G⁻ᵀ·g_a) ⊙ ∂F/∂μ.
double evaluate(const Objective& obj, const GroupParams& p, Gradient* grad, const Frozen* frozen_in,
                Frozen* frozen_out) {
  const GroupData& data = *obj.data;
  const int d = obj.coder->dim;
  const Eigen::Index n = data.w.size() / d;
  const Eigen::Map<const Eigen::MatrixXd> w(data.w.data(), d, n);
  const Eigen::MatrixXd u = compand_all(w, p);
  const Eigen::MatrixXd ginv = p.g.inverse();
  const Eigen::MatrixXd a = ginv * u;
  Eigen::MatrixXd q(d, n);
  std::vector<uint8_t> pass(static_cast<size_t>(d * n));
  if (frozen_in) {
    pass = frozen_in->pass;
    for (Eigen::Index k = 0; k < q.size(); ++k)
      q.data()[k] = frozen_in->q0.data()[k] + (pass[k] ? a.data()[k] - frozen_in->a0.data()[k] : 0.0);
  } else {
    std::vector<uint32_t> z(static_cast<size_t>(d));
    for (Eigen::Index k = 0; k < n; ++k) obj.coder->encode(a.col(k).data(), obj.bits, z.data(), q.col(k).data(), &pass[k * d]);
  }
  if (frozen_out) *frozen_out = Frozen{a, q, pass};

  const Eigen::MatrixXd v = p.g * q;
  RowMatrixD e(data.w.rows(), data.w.cols());
  for (Eigen::Index k = 0; k < v.size(); ++k) e.data()[k] = expand(v.data()[k], p.mu, p.scale) - data.w.data()[k];
  const RowMatrixD eh = e * data.h;
  double loss = (e.array() * eh.array()).sum();
  if (obj.g0) loss += obj.penalty * (p.g - *obj.g0).squaredNorm();
  if (!grad) return loss;

  const Eigen::Map<const Eigen::MatrixXd> g_what(eh.data(), d, n);  // ½·g_ŵ
  Eigen::MatrixXd g_v(d, n);
  for (Eigen::Index k = 0; k < v.size(); ++k) g_v.data()[k] = 2 * g_what.data()[k] * expand_dy(v.data()[k], p.mu, p.scale);
  Eigen::MatrixXd g_a = p.g.transpose() * g_v;
  for (Eigen::Index k = 0; k < g_a.size(); ++k)
    if (!pass[k]) g_a.data()[k] = 0;
  const Eigen::MatrixXd g_u = ginv.transpose() * g_a;
  grad->g = g_v * q.transpose() - g_u * a.transpose();
  if (obj.g0) grad->g += 2 * obj.penalty * (p.g - *obj.g0);
  grad->log_mu = grad->log_scale = 0;
  if (p.mu > 0) {
    // ŵ = s·f⁻¹(v) gives ∂ŵ/∂ln s = ŵ; u = f(x/s) gives ∂u/∂ln s = −t·f'(t).
    const double b = std::log1p(p.mu);
    double d_mu = 0, d_log_scale = 0;
    for (Eigen::Index k = 0; k < v.size(); ++k) {
      const double x = w.data()[k], t = x / p.scale;
      d_mu += 2 * g_what.data()[k] * expand_dmu(v.data()[k], p.mu, p.scale) +
              g_u.data()[k] * compand_dmu(x, p.mu, p.scale);
      d_log_scale += 2 * g_what.data()[k] * (e.data()[k] + x) - g_u.data()[k] * t * p.mu / ((1 + p.mu * std::abs(t)) * b);
    }
    grad->log_mu = p.mu * d_mu;
    grad->log_scale = d_log_scale;
  }
  return loss;
}

}  // namespace glvq_detail

GlvqTensor glvq_quantize(const RowMatrixD& w, const Eigen::MatrixXd& h, const GlvqConfig& cfg, GlvqReport* report) {
  using namespace glvq_detail;
  const auto start = std::chrono::steady_clock::now();
  cfg.validate();
  check_input(w, h);
  const Layout layout = Layout::make(cfg, w.rows(), w.cols());
  const Coder coder = Coder::make(cfg);
  const std::vector<uint8_t> bits = allocate_bits(w, h, layout, cfg);
  const bool want_init = report != nullptr && cfg.learn;
  const std::vector<uint16_t> scales = cfg.row_scale ? row_scales(w) : std::vector<uint16_t>{};
  const RowMatrixD scaled = cfg.row_scale ? divide_rows(w, scales) : RowMatrixD{};
  const RowMatrixD& coded = cfg.row_scale ? scaled : w;  // what the groups quantize

  std::vector<GroupResult> results(static_cast<size_t>(layout.groups));
  parallel_for(results.size(), 1, [&](size_t g) {
    results[g] = quantize_group(coded, h, layout, static_cast<int>(g), bits[g], coder, cfg, want_init);
  });
  if (cfg.feedback) feedback_codes(coded, h, layout, bits, coder, results);

  GlvqTensor t = assemble(cfg, w, bits, results, true);
  t.row_scale_fp16 = scales;
  if (report) {
    report->weighted_error_final = tensor_error(t, w, h);
    if (want_init) {
      GlvqTensor init = assemble(cfg, w, bits, results, false);
      init.row_scale_fp16 = scales;
      report->weighted_error_init = tensor_error(init, w, h);
    } else {
      report->weighted_error_init = report->weighted_error_final;
    }
    report->iterations = 0;
    for (const auto& r : results) report->iterations += r.steps;
    report->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return t;
}

}  // namespace llvq
