#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <Eigen/QR>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>

#include "test_data.hpp"
#include "llvq/error.hpp"
#include "llvq/glvq.hpp"
#include "llvq/leech.hpp"
#include "llvq/report.hpp"
#include "glvq_test_util.hpp"
#include "quant/glvq_detail.hpp"
#include "random.hpp"

namespace {
using llvq::GlvqConfig;
using llvq::GlvqTensor;
using llvq::InputError;
using llvq::RowMatrixD;
namespace gd = llvq::glvq_detail;

RowMatrixD gaussian(Eigen::Index r, Eigen::Index c, uint64_t seed, double sigma = 1.0) {
  const std::vector<double> v = llvq::test::gaussian<double>(static_cast<size_t>(r * c), seed, sigma);
  return Eigen::Map<const RowMatrixD>(v.data(), r, c);
}

// Student-t-like heavy tails: a Gaussian divided by a random spread.
RowMatrixD heavy_tailed(Eigen::Index r, Eigen::Index c, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g;
  std::chi_squared_distribution<double> chi(3.0);
  RowMatrixD m(r, c);
  for (Eigen::Index k = 0; k < m.size(); ++k) m.data()[k] = 0.02 * g(rng) / std::sqrt(chi(rng) / 3.0);
  return m;
}

// Correlated weights: Gaussian rows mixed across columns, so each D-vector has a non-trivial
// covariance for the Cholesky start to capture.
RowMatrixD correlated_weights(Eigen::Index r, Eigen::Index c, uint64_t seed) {
  const RowMatrixD z = gaussian(r, c, seed);
  RowMatrixD mix = RowMatrixD::Identity(c, c);
  for (Eigen::Index j = 1; j < c; ++j) mix(j - 1, j) = 0.8;  // neighbouring columns correlate
  return 0.02 * z * mix;
}

// H = XᵀX/N with X = Z·A: correlated calibration inputs.
Eigen::MatrixXd correlated_hessian(Eigen::Index dim, uint64_t seed) {
  const RowMatrixD x = gaussian(4 * dim, dim, seed) * gaussian(dim, dim, seed + 1);
  return x.transpose() * x / static_cast<double>(x.rows());
}

RowMatrixD to_matrix(const std::vector<float>& v, Eigen::Index r, Eigen::Index c) {
  RowMatrixD m(r, c);
  for (Eigen::Index k = 0; k < m.size(); ++k) m.data()[k] = v[static_cast<size_t>(k)];
  return m;
}

Eigen::MatrixXd random_orthogonal(int d, uint64_t seed) {
  const Eigen::MatrixXd m = gaussian(d, d, seed);
  return Eigen::HouseholderQR<Eigen::MatrixXd>(m).householderQ();
}

// ---- configuration ---------------------------------------------------------------------------

TEST(GlvqConfig, ParsesAndPrintsCanonicalSpec) {
  const GlvqConfig cfg = GlvqConfig::parse("glvq:dim=24,group=96,bits=3,learn=0,penalty=0.25,lr=0.01,seed=7");
  EXPECT_EQ(cfg.dim, 24);
  EXPECT_EQ(cfg.group, 96);
  EXPECT_EQ(cfg.bits, 3);
  EXPECT_FALSE(cfg.learn);
  EXPECT_EQ(cfg.penalty, 0.25);
  EXPECT_EQ(cfg.learning_rate, 0.01);
  EXPECT_EQ(cfg.seed, 7u);
  EXPECT_EQ(GlvqConfig::parse(cfg.spec()), cfg);
  EXPECT_EQ(GlvqConfig::parse("glvq"), GlvqConfig{});
  GlvqConfig odd;
  odd.penalty = 0.1 + 0.2;  // not a short decimal: must still survive the text round trip
  EXPECT_EQ(GlvqConfig::parse(odd.spec()).penalty, odd.penalty);
}

// row_scale and feedback are printed only when on, so the canonical spec of every
// configuration that existed before them (stored in older files) is unchanged.
TEST(GlvqConfig, ExtensionsAppearInTheSpecOnlyWhenOn) {
  EXPECT_EQ(GlvqConfig{}.spec().find("row_scale"), std::string::npos);
  EXPECT_EQ(GlvqConfig{}.spec().find("feedback"), std::string::npos);
  const GlvqConfig cfg = GlvqConfig::parse("glvq:dim=32,bits=2,row_scale=1,feedback=1");
  EXPECT_TRUE(cfg.row_scale);
  EXPECT_TRUE(cfg.feedback);
  EXPECT_EQ(GlvqConfig::parse(cfg.spec()), cfg);
  EXPECT_NE(cfg.spec().find(",row_scale=1,feedback=1"), std::string::npos) << cfg.spec();
  EXPECT_EQ(GlvqConfig::parse("glvq:row_scale=0,feedback=0"), GlvqConfig{});
  EXPECT_THROW(GlvqConfig::parse("glvq:row_scale=2"), InputError);
  EXPECT_THROW(GlvqConfig::parse("glvq:feedback=yes"), InputError);
  // init likewise: printed only when not the paper's covariance start.
  EXPECT_EQ(GlvqConfig{}.spec().find("init"), std::string::npos);
  EXPECT_EQ(GlvqConfig::parse("glvq:init=covariance"), GlvqConfig{});
  const GlvqConfig hessian = GlvqConfig::parse("glvq:dim=8,init=hessian,row_scale=1");
  EXPECT_EQ(hessian.init, "hessian");
  EXPECT_EQ(GlvqConfig::parse(hessian.spec()), hessian);
  EXPECT_THROW(GlvqConfig::parse("glvq:init=cholesky"), InputError);
}

TEST(GlvqConfig, RejectsBadParameters) {
  for (const char* spec :
       {"glvq:dim=16", "glvq:dim=8,group=100", "glvq:dim=24,group=128", "glvq:bits=0", "glvq:bits=9",
        "glvq:learn=2", "glvq:iterations=-1", "glvq:penalty=-1", "glvq:lr=0", "glvq:lr=nan", "glvq:decoder=exact",
        "glvq:dim=8,decoder=leech", "glvq:dim=24,group=96,decoder=leech,bits=5", "glvq:foo=1", "glvq:dim=8,dim=8",
        "glvq:dim=8x", "glvq:dim", "glvq:dim=8,", "gvq:dim=8", "glvqx"}) {
    EXPECT_THROW(GlvqConfig::parse(spec), InputError) << spec;
  }
  try {
    GlvqConfig::parse("glvq:dim=8,group=100");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("multiple of dim"), std::string::npos) << e.what();
  }
}

// ---- building blocks -------------------------------------------------------------------------

TEST(GlvqFp16, EveryHalfValueRoundTripsAndRoundingIsToNearestEven) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const double v = gd::from_fp16(static_cast<uint16_t>(h));
    if (std::isnan(v)) continue;
    EXPECT_EQ(gd::to_fp16(v), h) << h;
  }
  EXPECT_EQ(gd::to_fp16(1.0), 0x3c00);
  EXPECT_EQ(gd::to_fp16(65504.0), 0x7bff);
  EXPECT_EQ(gd::to_fp16(65520.0), 0x7c00);             // halfway to 2^16 rounds up to inf
  EXPECT_EQ(gd::to_fp16(std::ldexp(1.0, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(gd::to_fp16(1.0 + std::ldexp(1.0, -11)), 0x3c00);      // tie → even
  EXPECT_EQ(gd::to_fp16(1.0 + 3 * std::ldexp(1.0, -11)), 0x3c02);  // tie → even (up)
  EXPECT_EQ(gd::to_fp16(-2.0), 0xc000);
}

TEST(GlvqStep, UniformGaussianStepMatchesClosedFormAndMaxTable) {
  // Two levels: the optimum reconstruction points are ±E|x| = ±√(2/π).
  EXPECT_NEAR(gd::gaussian_uniform_step(2), 2 * std::sqrt(2 / M_PI), 1e-6);
  // Four levels: Max (1960) gives the optimal uniform step 0.9957.
  EXPECT_NEAR(gd::gaussian_uniform_step(4), 0.9957, 1e-3);
}

TEST(GlvqCompanding, ExpandInvertsCompand) {
  for (double mu : {10.0, 87.5, 255.0})
    for (double x : {-0.3, -1e-4, 0.0, 2e-3, 0.05, 0.29}) {
      const double y = gd::compand(x, mu, 0.3);
      EXPECT_LE(std::abs(y), 1.0 + 1e-12);
      EXPECT_NEAR(gd::expand(y, mu, 0.3), x, 1e-14);
    }
}

// With an orthogonal (scaled) G the distance ‖G(z − c) − y‖² separates into coordinates, so
// Babai rounding with clamping must find the exact nearest point of the whole codebook.
TEST(GlvqBabai, EqualsBruteForceNearestPointForOrthogonalG) {
  constexpr int d = 8;
  GlvqConfig cfg;
  const gd::Coder coder = gd::Coder::make(cfg);
  for (int bits : {1, 2}) {
    const Eigen::MatrixXd g = 0.7 * random_orthogonal(d, 11 + bits);
    const int levels = 1 << bits;
    const double center = 0.5 * (levels - 1);
    const RowMatrixD targets = gaussian(40, d, 5 + bits, 1.5);
    int clamped = 0;
    for (Eigen::Index t = 0; t < targets.rows(); ++t) {
      const Eigen::VectorXd y = targets.row(t).transpose();
      const Eigen::VectorXd a = g.inverse() * y;
      uint32_t z[d];
      double q[d];
      uint8_t pass[d];
      coder.encode(a.data(), bits, z, q, pass);
      for (int i = 0; i < d; ++i) clamped += !pass[i];
      const Eigen::VectorXd babai = g * Eigen::Map<Eigen::VectorXd>(q, d);
      double best = INFINITY;
      Eigen::VectorXd zz(d);
      for (uint32_t index = 0; index < (1u << (bits * d)); ++index) {
        for (int i = 0; i < d; ++i) zz(i) = ((index >> (bits * i)) & (levels - 1)) - center;
        best = std::min(best, (g * zz - y).squaredNorm());
      }
      EXPECT_NEAR((babai - y).squaredNorm(), best, 1e-12);
      double back[d];
      coder.decode(z, bits, back);
      for (int i = 0; i < d; ++i) EXPECT_EQ(back[i], q[i]);
    }
    EXPECT_GT(clamped, 0) << "the targets must reach the clamped region";
  }
}

// Every code decodes to a point of J that is its own Voronoi-code representative, and encoding
// that point gives the code back: the map between codes and codebook points is a bijection.
TEST(GlvqLeech, CodesAndCodebookPointsCorrespondOneToOne) {
  const gd::Coder coder = gd::Coder::make(GlvqConfig::parse("glvq:dim=24,group=96,decoder=leech"));
  std::mt19937_64 rng(131);
  for (int bits = 1; bits <= 4; ++bits) {
    std::uniform_int_distribution<uint32_t> digit(0, (1u << bits) - 1);
    for (int trial = 0; trial < 40; ++trial) {
      uint32_t z[24], back[24];
      double q[24], q2[24];
      uint8_t pass[24];
      for (auto& v : z) v = digit(rng);
      coder.decode(z, bits, q);
      llvq::leech::Vec p;
      for (int i = 0; i < 24; ++i) p[i] = static_cast<int32_t>(q[i]);
      ASSERT_TRUE(llvq::leech::is_member(p));
      coder.encode(q, bits, back, q2, pass);
      for (int i = 0; i < 24; ++i) {
        EXPECT_EQ(back[i], z[i]) << "bits " << bits;
        EXPECT_EQ(q2[i], q[i]);
        EXPECT_TRUE(pass[i]);
      }
    }
  }
}

// Inside the codebook the Leech coder returns the exact nearest lattice point; outside it
// (overload) it never does worse than the origin and blocks the gradient.
TEST(GlvqLeech, NearestPointInsideAndGracefulOverload) {
  const gd::Coder coder = gd::Coder::make(GlvqConfig::parse("glvq:dim=24,group=96,decoder=leech"));
  const RowMatrixD targets = gaussian(60, 24, 141, 3.0);
  int overloaded = 0, exact = 0;
  for (Eigen::Index t = 0; t < targets.rows(); ++t) {
    const double* a = targets.row(t).data();
    uint32_t z[24];
    double q[24];
    uint8_t pass[24];
    coder.encode(a, 2, z, q, pass);
    const llvq::leech::Vec nearest = llvq::leech::nearest_point(a);
    double dist = 0, origin = 0;
    for (int i = 0; i < 24; ++i) dist += (q[i] - a[i]) * (q[i] - a[i]), origin += a[i] * a[i];
    if (pass[0]) {
      ++exact;
      for (int i = 0; i < 24; ++i) EXPECT_EQ(q[i], nearest[i]);
    } else {
      ++overloaded;
      EXPECT_LE(dist, origin);
    }
  }
  EXPECT_GT(exact, 0);
  EXPECT_GT(overloaded, 0);
}

// ---- gradient ----------------------------------------------------------------------------------

struct GradientCase {
  gd::GroupData data;
  gd::Coder coder;
  gd::GroupParams p;
  Eigen::MatrixXd g0;
};

// A small group where some coordinates are clamped (Babai) or some vectors overloaded (Leech).
GradientCase gradient_case(bool companding, bool leech) {
  GradientCase c;
  GlvqConfig cfg = GlvqConfig::parse(leech ? "glvq:dim=24,group=48,decoder=leech" : "glvq");
  const int d = cfg.dim;
  c.coder = gd::Coder::make(cfg);
  c.data.w = heavy_tailed(6, 2 * d, 21);
  c.data.h = correlated_hessian(2 * d, 22);
  const Eigen::MatrixXd m = gaussian(d, d, 23) / std::sqrt(d / 8.0);
  c.p.g = (leech ? 0.17 : 0.25) * (Eigen::MatrixXd::Identity(d, d) + 0.2 * m);
  if (companding) {
    c.p.mu = 37.0;
    c.p.scale = c.data.w.cwiseAbs().maxCoeff();
  } else {
    c.p.g *= 0.05;
  }
  c.g0 = c.p.g + 0.01 * Eigen::MatrixXd(gaussian(d, d, 24));
  return c;
}

void check_gradient(bool companding, bool leech = false) {
  GradientCase c = gradient_case(companding, leech);
  const gd::Objective obj{&c.data, &c.coder, 2, &c.g0, 0.3};
  gd::Frozen frozen;
  gd::Gradient straight, surrogate;
  const double f0 = gd::evaluate(obj, c.p, &straight, nullptr, &frozen);
  int blocked = 0;
  for (uint8_t v : frozen.pass) blocked += !v;
  ASSERT_GT(blocked, 0) << "the case must exercise clamped coordinates / overloaded vectors";
  ASSERT_LT(blocked, static_cast<int>(frozen.pass.size()));
  // At the freezing point the surrogate is the real objective, with the same gradient.
  EXPECT_DOUBLE_EQ(gd::evaluate(obj, c.p, &surrogate, &frozen), f0);
  EXPECT_LT((surrogate.g - straight.g).norm(), 1e-12 * straight.g.norm());

  auto f = [&](const gd::GroupParams& p) { return gd::evaluate(obj, p, nullptr, &frozen); };
  const double scale = straight.g.cwiseAbs().maxCoeff();
  for (Eigen::Index k = 0; k < c.p.g.size(); ++k) {
    const double h = 1e-6 * std::max(1.0, std::abs(c.p.g.data()[k]));
    gd::GroupParams plus = c.p, minus = c.p;
    plus.g.data()[k] += h;
    minus.g.data()[k] -= h;
    const double numeric = (f(plus) - f(minus)) / (2 * h);
    EXPECT_NEAR(straight.g.data()[k], numeric, 1e-6 * scale) << "G entry " << k;
  }
  if (companding) {
    const double h = 1e-6;
    gd::GroupParams plus = c.p, minus = c.p;
    plus.mu = c.p.mu * std::exp(h);
    minus.mu = c.p.mu * std::exp(-h);
    const double numeric = (f(plus) - f(minus)) / (2 * h);
    EXPECT_NEAR(straight.log_mu, numeric, 1e-6 * std::max(1.0, std::abs(numeric)));
    EXPECT_NE(straight.log_mu, 0.0);
    plus = c.p, minus = c.p;
    plus.scale = c.p.scale * std::exp(h);
    minus.scale = c.p.scale * std::exp(-h);
    const double numeric_scale = (f(plus) - f(minus)) / (2 * h);
    EXPECT_NEAR(straight.log_scale, numeric_scale, 1e-6 * std::max(1.0, std::abs(numeric_scale)));
    EXPECT_NE(straight.log_scale, 0.0);
  } else {
    EXPECT_EQ(straight.log_mu, 0.0);
    EXPECT_EQ(straight.log_scale, 0.0);
  }
}

TEST(GlvqGradient, MatchesFiniteDifferencesWithCompanding) { check_gradient(true); }
TEST(GlvqGradient, MatchesFiniteDifferencesWithTheLeechDecoder) { check_gradient(true, true); }
TEST(GlvqGradient, MatchesFiniteDifferencesWithoutCompanding) { check_gradient(false); }

// ---- quantization -----------------------------------------------------------------------------

TEST(GlvqQuantize, LearningBeatsNoLearningOnCorrelatedData) {
  const RowMatrixD w = correlated_weights(64, 64, 31);
  const Eigen::MatrixXd h = correlated_hessian(64, 32);
  GlvqConfig cfg = GlvqConfig::parse("glvq:dim=8,group=32,bits=2");
  llvq::GlvqReport learned;
  const GlvqTensor t = llvq::glvq_quantize(w, h, cfg, &learned);
  EXPECT_GT(learned.iterations, 0);
  EXPECT_LT(learned.weighted_error_final, learned.weighted_error_init);
  // The report's "init" is exactly what learn=0 produces.
  cfg.learn = false;
  llvq::GlvqReport fixed;
  const GlvqTensor t0 = llvq::glvq_quantize(w, h, cfg, &fixed);
  EXPECT_EQ(fixed.iterations, 0);
  EXPECT_DOUBLE_EQ(fixed.weighted_error_final, learned.weighted_error_init);
  EXPECT_EQ(fixed.weighted_error_init, fixed.weighted_error_final);
  const double recomputed =
      llvq::relative_weighted_error(w, to_matrix(t.dequantize(), w.rows(), w.cols()), h);
  EXPECT_DOUBLE_EQ(recomputed, learned.weighted_error_final);
  EXPECT_LT(learned.weighted_error_final, 0.5);
}

TEST(GlvqQuantize, LeechDecoderLearnsAndRoundTrips) {
  const RowMatrixD w = correlated_weights(64, 48, 151);
  const Eigen::MatrixXd h = correlated_hessian(48, 152);
  llvq::GlvqReport report;
  const GlvqTensor t =
      llvq::glvq_quantize(w, h, GlvqConfig::parse("glvq:dim=24,group=48,bits=2,decoder=leech,iterations=100"), &report);
  EXPECT_LT(report.weighted_error_final, report.weighted_error_init);
  EXPECT_LT(report.weighted_error_final, 0.5);
  const GlvqTensor back = GlvqTensor::from_blobs(t.config.spec(), t.rows, t.cols, t.to_blobs());
  EXPECT_EQ(back.dequantize(), t.dequantize());
}

TEST(GlvqQuantize, MuStaysInBoundsUnderAggressiveLearning) {
  const RowMatrixD w = heavy_tailed(48, 64, 41);
  const Eigen::MatrixXd h = correlated_hessian(64, 42);
  for (double lr : {0.05, 1.0}) {
    GlvqConfig cfg = GlvqConfig::parse("glvq:dim=8,group=16,bits=2,iterations=60");
    cfg.learning_rate = lr;
    const GlvqTensor t = llvq::glvq_quantize(w, h, cfg);
    ASSERT_EQ(t.mu_fp16.size(), 4u);
    for (uint16_t m : t.mu_fp16) {
      EXPECT_GE(gd::from_fp16(m), 10.0);
      EXPECT_LE(gd::from_fp16(m), 255.0);
    }
  }
}

TEST(GlvqQuantize, SalienceMovesBitsToTheHeavyGroupsAndKeepsTheAverage) {
  RowMatrixD w = gaussian(16, 64, 51, 0.01);
  w.middleCols(16, 16) *= 20;  // group 1 is by far the most salient
  const Eigen::MatrixXd h = Eigen::MatrixXd::Identity(64, 64);
  const GlvqTensor t = llvq::glvq_quantize(w, h, GlvqConfig::parse("glvq:dim=8,group=16,bits=2,learn=0"));
  ASSERT_EQ(t.group_bits.size(), 4u);
  EXPECT_EQ(t.group_bits[1], 3);
  int sum = 0;
  for (uint8_t b : t.group_bits) sum += b;
  EXPECT_EQ(sum, 8);
  // Side information: 64 fp16 entries of G, μ and scale in fp16, 8 bits of width per group.
  const double expected = (16.0 * 64 * 2 + 4 * (16 * 64 + 16 + 16 + 8)) / (16.0 * 64);
  EXPECT_DOUBLE_EQ(t.bits_per_weight(), expected);
  const GlvqTensor flat = llvq::glvq_quantize(w, h, GlvqConfig::parse("glvq:dim=8,group=16,bits=2,learn=0,salience=0"));
  for (uint8_t b : flat.group_bits) EXPECT_EQ(b, 2);
}

TEST(GlvqQuantize, BitsOneGivesZeroBitGroupsThatDecodeToZero) {
  RowMatrixD w = gaussian(8, 32, 55, 0.01);
  w.leftCols(8) *= 30;
  const GlvqTensor t = llvq::glvq_quantize(w, Eigen::MatrixXd::Identity(32, 32),
                                           GlvqConfig::parse("glvq:dim=8,group=8,bits=1,learn=0"));
  const RowMatrixD q = to_matrix(t.dequantize(), 8, 32);
  for (size_t g = 0; g < t.group_bits.size(); ++g)
    if (t.group_bits[g] == 0) {
      EXPECT_EQ(q.middleCols(static_cast<Eigen::Index>(8 * g), 8).norm(), 0.0);
    }
  EXPECT_EQ(t.group_bits[0], 2);
}

TEST(GlvqQuantize, PadsColumnsThatAreNotAMultipleOfTheDimension) {
  const RowMatrixD w = correlated_weights(12, 44, 61);  // 44 = 5·8 + 4
  const Eigen::MatrixXd h = correlated_hessian(44, 62);
  llvq::GlvqReport report;
  const GlvqTensor t = llvq::glvq_quantize(w, h, GlvqConfig::parse("glvq:dim=8,group=32,bits=3"), &report);
  EXPECT_EQ(t.group_bits.size(), 2u);  // widths 32 and 16 (48 padded columns)
  const std::vector<float> q = t.dequantize();
  ASSERT_EQ(q.size(), 12u * 44u);
  EXPECT_LT(report.weighted_error_final, 0.2);
  // Padding columns cost code bits: 12 rows × 48 columns × 3 bits, plus side information.
  EXPECT_DOUBLE_EQ(t.bits_per_weight(), (12.0 * 48 * 3 + 2 * (16 * 64 + 40)) / (12.0 * 44));
}

TEST(GlvqQuantize, DeterministicForASeedOnTallLayers) {
  const RowMatrixD w = correlated_weights(1100, 16, 71);  // more rows than the fitting subsample
  const Eigen::MatrixXd h = correlated_hessian(16, 72);
  const GlvqConfig cfg = GlvqConfig::parse("glvq:dim=8,group=16,bits=2,iterations=30,seed=5");
  const GlvqTensor a = llvq::glvq_quantize(w, h, cfg), b = llvq::glvq_quantize(w, h, cfg);
  EXPECT_EQ(a.to_blobs(), b.to_blobs());
}

TEST(GlvqQuantize, RejectsBadInput) {
  const RowMatrixD w = gaussian(4, 16, 81);
  GlvqConfig cfg;
  EXPECT_THROW(llvq::glvq_quantize(w, Eigen::MatrixXd::Identity(8, 8), cfg), InputError);
  RowMatrixD bad = w;
  bad(1, 2) = NAN;
  EXPECT_THROW(llvq::glvq_quantize(bad, Eigen::MatrixXd::Identity(16, 16), cfg), InputError);
  cfg.bits = 12;
  EXPECT_THROW(llvq::glvq_quantize(w, Eigen::MatrixXd::Identity(16, 16), cfg), InputError);
  cfg = GlvqConfig{};
  cfg.group = 12;  // D = 8 does not divide it
  EXPECT_THROW(llvq::glvq_quantize(w, Eigen::MatrixXd::Identity(16, 16), cfg), InputError);
}

// Rows whose norms span two decades: one shared codebook per group fits the large rows and
// rounds the small ones to almost nothing; a per-row scale first evens them out.
RowMatrixD uneven_rows(Eigen::Index r, Eigen::Index c, uint64_t seed) {
  RowMatrixD w = correlated_weights(r, c, seed);
  for (Eigen::Index i = 0; i < r; ++i) w.row(i) *= std::pow(10.0, 2.0 * static_cast<double>(i % 8) / 7.0 - 1.0);
  return w;
}

TEST(GlvqRowScale, LowersTheErrorOnRowsOfUnequalNormAndCostsSixteenBitsPerRow) {
  const RowMatrixD w = uneven_rows(64, 64, 201);
  const Eigen::MatrixXd h = correlated_hessian(64, 202);
  llvq::GlvqReport plain, scaled;
  const GlvqTensor a = llvq::glvq_quantize(w, h, GlvqConfig::parse("glvq:dim=8,group=32,bits=2"), &plain);
  const GlvqTensor b = llvq::glvq_quantize(w, h, GlvqConfig::parse("glvq:dim=8,group=32,bits=2,row_scale=1"), &scaled);
  EXPECT_LT(scaled.weighted_error_final, 0.8 * plain.weighted_error_final)
      << scaled.weighted_error_final << " vs " << plain.weighted_error_final;
  ASSERT_EQ(b.row_scale_fp16.size(), 64u);
  EXPECT_EQ(b.payload_bits(), a.payload_bits() + 16u * 64u);
  EXPECT_EQ(b.payload_bits(), llvq::test::glvq_payload_bits(64, 64, 8, 32, 2, true) + 16u * 64u);
  // The report's error is the error of what dequantize() returns (row scales included).
  EXPECT_DOUBLE_EQ(llvq::relative_weighted_error(w, to_matrix(b.dequantize(), 64, 64), h), scaled.weighted_error_final);
}

TEST(GlvqRowScale, RoundTripsBitExactlyAndRejectsBadScales) {
  const RowMatrixD w = uneven_rows(16, 40, 211);  // 40 columns: padded to 48 at D = 8
  const GlvqTensor t = llvq::glvq_quantize(w, correlated_hessian(40, 212),
                                           GlvqConfig::parse("glvq:dim=8,group=16,bits=3,iterations=30,row_scale=1"));
  const std::string spec = t.config.spec();
  const GlvqTensor back = GlvqTensor::from_blobs(spec, t.rows, t.cols, t.to_blobs());
  EXPECT_EQ(back.row_scale_fp16, t.row_scale_fp16);
  EXPECT_EQ(back.dequantize(), t.dequantize());
  EXPECT_EQ(back.payload_bits(), t.payload_bits());
  using Blobs = std::vector<std::pair<std::string, std::vector<uint8_t>>>;
  auto with_first_scale = [&](uint16_t v) {
    Blobs b = t.to_blobs();
    for (auto& [name, bytes] : b)
      if (name == "row_scale") bytes[0] = static_cast<uint8_t>(v & 0xff), bytes[1] = static_cast<uint8_t>(v >> 8);
    return b;
  };
  for (uint16_t bad : {uint16_t{0x0000}, uint16_t{0xBC00} /* −1 */, uint16_t{0x7C00} /* inf */, uint16_t{0x7E00}}) {
    try {
      GlvqTensor::from_blobs(spec, t.rows, t.cols, with_first_scale(bad));
      ADD_FAILURE() << "row scale " << bad << " was accepted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("row 0"), std::string::npos) << e.what();
    }
  }
  Blobs missing = t.to_blobs();
  missing.pop_back();  // row_scale is the last blob
  EXPECT_THROW(GlvqTensor::from_blobs(spec, t.rows, t.cols, missing), InputError);
  // A tensor without row scales does not accept a row_scale blob, and vice versa.
  const std::string plain = GlvqConfig::parse("glvq:dim=8,group=16,bits=3,iterations=30").spec();
  EXPECT_THROW(GlvqTensor::from_blobs(plain, t.rows, t.cols, t.to_blobs()), InputError);
}

// ---- error feedback ----------------------------------------------------------------------------

// Feedback over frozen parameters: the same G, μ, s and rate, new codes; the error must drop.
// D = 8 gains most (many D-blocks per row to push errors across, measured 10–25 % here); at
// D = 32 a 64-wide row has only two blocks, so the wider layer below is used for it.
void check_feedback_gain(Eigen::Index rows, Eigen::Index cols, const std::string& spec, double max_ratio) {
  const RowMatrixD w = correlated_weights(rows, cols, 221);
  const Eigen::MatrixXd h = correlated_hessian(cols, 222);
  GlvqConfig cfg = GlvqConfig::parse(spec);
  llvq::GlvqReport plain, fed;
  const GlvqTensor a = llvq::glvq_quantize(w, h, cfg, &plain);
  cfg.feedback = true;
  const GlvqTensor b = llvq::glvq_quantize(w, h, cfg, &fed);
  EXPECT_EQ(b.g_fp16, a.g_fp16) << spec;  // learning does not see the feedback
  EXPECT_EQ(b.payload_bits(), a.payload_bits()) << spec;
  EXPECT_LT(fed.weighted_error_final, max_ratio * plain.weighted_error_final)
      << spec << ": " << fed.weighted_error_final << " vs " << plain.weighted_error_final;
  EXPECT_DOUBLE_EQ(llvq::relative_weighted_error(w, to_matrix(b.dequantize(), rows, cols), h), fed.weighted_error_final);
  const GlvqTensor back = GlvqTensor::from_blobs(b.config.spec(), b.rows, b.cols, b.to_blobs());
  EXPECT_EQ(back.dequantize(), b.dequantize());
}

// The Hessian-weighted start G = L⁻ᵀ·chol(Lᵀ·Σ·L) (H̄ = L·Lᵀ) has G·Gᵀ = Σ, as the covariance
// start chol(Σ) has: it only turns the cell. With white weights and a diagonal metric (here one
// coordinate of every 8-block weighted 100×) L commutes with Σ and both starts are the same
// lattice: same rate, same weighted error. With a correlated metric the cell turns: another G,
// the same G·Gᵀ up to fp16 rounding.
TEST(GlvqInit, HessianStartKeepsTheCovarianceAndTurnsTheCell) {
  const RowMatrixD w = gaussian(128, 64, 31);
  Eigen::MatrixXd diagonal = Eigen::MatrixXd::Identity(64, 64);
  for (Eigen::Index c = 0; c < 64; c += 8) diagonal(c, c) = 100;
  const GlvqConfig covariance_start = GlvqConfig::parse("glvq:dim=8,group=64,bits=2,learn=0,companding=0");
  GlvqConfig hessian_start = covariance_start;
  hessian_start.init = "hessian";
  llvq::GlvqReport ra, rb;
  const GlvqTensor a = llvq::glvq_quantize(w, diagonal, covariance_start, &ra);
  const GlvqTensor b = llvq::glvq_quantize(w, diagonal, hessian_start, &rb);
  EXPECT_EQ(b.payload_bits(), a.payload_bits());
  EXPECT_NEAR(rb.weighted_error_init, ra.weighted_error_init, 1e-3 * ra.weighted_error_init);
  EXPECT_DOUBLE_EQ(llvq::relative_weighted_error(w, to_matrix(b.dequantize(), 128, 64), diagonal), rb.weighted_error_init);

  const Eigen::MatrixXd correlated = correlated_hessian(64, 32);
  const GlvqTensor c = llvq::glvq_quantize(w, correlated, covariance_start);
  const GlvqTensor d = llvq::glvq_quantize(w, correlated, hessian_start);
  auto g_of = [](const GlvqTensor& t) {
    Eigen::MatrixXd g(8, 8);
    for (int i = 0; i < 64; ++i) g(i / 8, i % 8) = llvq::glvq_detail::from_fp16(t.g_fp16[static_cast<size_t>(i)]);
    return g;
  };
  const Eigen::MatrixXd gc = g_of(c), gd = g_of(d);
  EXPECT_GT((gc - gd).norm(), 0.1 * gc.norm());
  // The golden-section factor differs between the two starts: compare shapes, not scales.
  const Eigen::MatrixXd sc = gc * gc.transpose() / (gc * gc.transpose()).trace();
  const Eigen::MatrixXd sd = gd * gd.transpose() / (gd * gd.transpose()).trace();
  EXPECT_LT((sc - sd).norm(), 0.01 * sc.norm());
}

TEST(GlvqFeedback, LowersTheHessianWeightedErrorOverFrozenParameters) {
  check_feedback_gain(96, 64, "glvq:dim=8,group=32,bits=2", 0.9);
  check_feedback_gain(96, 64, "glvq:dim=8,group=32,bits=2,learn=0", 0.9);
  check_feedback_gain(96, 256, "glvq:dim=32,group=64,bits=2", 1.0);
}

TEST(GlvqFeedback, PadsZeroBitGroupsRowScalesAndIsDeterministic) {
  RowMatrixD w = uneven_rows(24, 44, 231);  // 44 columns: padded to 48
  w.leftCols(8) *= 30;                      // salience: some groups get 0 bits at bits = 1
  const Eigen::MatrixXd h = correlated_hessian(44, 232);
  const GlvqConfig cfg = GlvqConfig::parse("glvq:dim=8,group=8,bits=1,iterations=20,row_scale=1,feedback=1");
  llvq::GlvqReport report;
  const GlvqTensor a = llvq::glvq_quantize(w, h, cfg, &report), b = llvq::glvq_quantize(w, h, cfg);
  EXPECT_EQ(a.to_blobs(), b.to_blobs());
  EXPECT_NE(std::find(a.group_bits.begin(), a.group_bits.end(), 0), a.group_bits.end());
  const RowMatrixD q = to_matrix(a.dequantize(), 24, 44);
  EXPECT_TRUE(q.allFinite());
  for (Eigen::Index g = 0; g < 5; ++g)  // the five groups without padding columns
    if (a.group_bits[static_cast<size_t>(g)] == 0) {
      EXPECT_EQ(q.middleCols(8 * g, 8).norm(), 0.0);
    }
  EXPECT_DOUBLE_EQ(llvq::relative_weighted_error(w, q, h), report.weighted_error_final);
  EXPECT_LT(report.weighted_error_final, 1.0);
}

// ---- serialisation ------------------------------------------------------------------------------

GlvqTensor learned_tensor(bool learn = true) {
  const RowMatrixD w = heavy_tailed(20, 60, 91);
  const Eigen::MatrixXd h = correlated_hessian(60, 92);
  GlvqConfig cfg = GlvqConfig::parse("glvq:dim=8,group=16,bits=3,iterations=40");
  cfg.learn = learn;
  return llvq::glvq_quantize(w, h, cfg);
}

TEST(GlvqSerialisation, LearnedMatricesAndMuSurviveARoundTripBitExactly) {
  const GlvqTensor t = learned_tensor();
  // The stored parameters are the learned ones, not the start.
  const GlvqTensor start = learned_tensor(false);
  EXPECT_NE(t.g_fp16, start.g_fp16);
  EXPECT_NE(t.mu_fp16, start.mu_fp16);
  const GlvqTensor back = GlvqTensor::from_blobs(t.config.spec(), t.rows, t.cols, t.to_blobs());
  EXPECT_EQ(back.config, t.config);
  EXPECT_EQ(back.g_fp16, t.g_fp16);
  EXPECT_EQ(back.mu_fp16, t.mu_fp16);
  EXPECT_EQ(back.scale_fp16, t.scale_fp16);
  EXPECT_EQ(back.group_bits, t.group_bits);
  EXPECT_EQ(back.codes, t.codes);
  EXPECT_EQ(back.dequantize(), t.dequantize());
  EXPECT_EQ(back.bits_per_weight(), t.bits_per_weight());
}

using Blobs = std::vector<std::pair<std::string, std::vector<uint8_t>>>;

std::vector<uint8_t>& blob(Blobs& blobs, const std::string& name) {
  for (auto& [key, bytes] : blobs)
    if (key == name) return bytes;
  throw std::logic_error("no blob " + name);
}

TEST(GlvqSerialisation, CorruptDataGivesClearErrors) {
  const GlvqTensor t = learned_tensor();
  const std::string spec = t.config.spec();
  auto expect_error = [&](Blobs blobs, const char* what) {
    EXPECT_THROW(GlvqTensor::from_blobs(spec, t.rows, t.cols, blobs), InputError) << what;
  };
  Blobs b = t.to_blobs();
  blob(b, "codes").pop_back();
  expect_error(b, "short codes");
  b = t.to_blobs();
  blob(b, "mu")[1] = 0x5c;  // μ = 256 + ...: out of bounds
  blob(b, "mu")[0] = 0x08;
  expect_error(b, "mu above 255");
  b = t.to_blobs();
  blob(b, "g")[1] = 0x7e;  // NaN
  expect_error(b, "NaN in G");
  b = t.to_blobs();
  blob(b, "g")[0] = 0x53;  // 60,000: finite, but e^(ln(1+μ)·|y|) then overflows float
  blob(b, "g")[1] = 0x7b;
  try {
    GlvqTensor::from_blobs(spec, t.rows, t.cols, b);
    ADD_FAILURE() << "a G that decodes to ±inf was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("beyond float range"), std::string::npos) << e.what();
  }
  b = t.to_blobs();
  blob(b, "bits")[0] = 7;
  expect_error(b, "bit width outside B−1..B+1");
  b = t.to_blobs();
  blob(b, "scale")[0] = 0;
  blob(b, "scale")[1] = 0;
  expect_error(b, "zero scale");
  b = t.to_blobs();
  b.pop_back();
  expect_error(b, "missing codes");
  b = t.to_blobs();
  b.push_back(b.front());
  expect_error(b, "duplicate blob");
  EXPECT_THROW(GlvqTensor::from_blobs(spec, t.rows, t.cols + 8, t.to_blobs()), InputError);
  EXPECT_THROW(GlvqTensor::from_blobs("glvq:dim=5", t.rows, t.cols, t.to_blobs()), InputError);
  EXPECT_THROW(GlvqTensor::from_blobs(spec, 0, t.cols, t.to_blobs()), InputError);
}

// ---- measurements (docs/glvq.md) --------------------------------------------------------------
// Not checks: run with --gtest_also_run_disabled_tests --gtest_filter='GlvqMeasure.*'.

struct Measured {
  double bpw, init, final, seconds;
  int iterations;
};

Measured measure(const RowMatrixD& w, const Eigen::MatrixXd& h, const std::string& spec) {
  llvq::GlvqReport r;
  const GlvqTensor t = llvq::glvq_quantize(w, h, GlvqConfig::parse(spec), &r);
  return {t.bits_per_weight(), r.weighted_error_init, r.weighted_error_final, r.seconds, r.iterations};
}

void print_error_table(const char* title, const RowMatrixD& w, const Eigen::MatrixXd& h,
                       const std::vector<std::string>& specs) {
  llvq::Table table({"spec", "bpw", "rel. error, no learning", "rel. error, learned", "gain", "steps", "seconds"});
  for (const auto& spec : specs) {
    const Measured m = measure(w, h, spec);
    table.add_row({spec, llvq::strfmt("%.3f", m.bpw), llvq::strfmt("%.5f", m.init), llvq::strfmt("%.5f", m.final),
                   llvq::strfmt("%.1f%%", 100 * (1 - m.final / m.init)), std::to_string(m.iterations),
                   llvq::strfmt("%.2f", m.seconds)});
  }
  std::printf("\n%s\n%s", title, table.to_markdown().c_str());
}

TEST(GlvqMeasure, DISABLED_SyntheticCorrelated) {
  const RowMatrixD w = correlated_weights(512, 512, 101);
  const Eigen::MatrixXd h = correlated_hessian(512, 102);
  print_error_table("synthetic correlated weights 512×512, H = XᵀX/N of mixed Gaussian inputs", w, h,
                    {"glvq:dim=8,bits=2", "glvq:dim=8,bits=3", "glvq:dim=24,group=120,bits=2",
                     "glvq:dim=24,group=120,bits=2,decoder=leech", "glvq:dim=24,group=120,bits=3",
                     "glvq:dim=24,group=120,bits=3,decoder=leech", "glvq:dim=32,bits=2", "glvq:dim=32,bits=3",
                     "glvq:dim=8,bits=2,companding=0", "glvq:dim=8,bits=2,penalty=0.1"});
}

// One weight matrix of the llama2.c checkpoint (docs/background.md §4): layer `layer` of w1
// [hidden, dim] or wq [dim, dim].
RowMatrixD stories_matrix(const std::string& which, int layer) {
  std::ifstream in(llvq::test::data_file("models/stories260K/stories260K.bin"), std::ios::binary);
  if (!in) throw std::runtime_error("stories260K.bin not found");
  int32_t hdr[7];
  in.read(reinterpret_cast<char*>(hdr), sizeof hdr);
  const int64_t dim = hdr[0], hidden = hdr[1], layers = hdr[2], heads = hdr[3], kv_heads = hdr[4];
  const int64_t vocab = std::abs(hdr[5]), kv_dim = dim * kv_heads / heads;
  int64_t offset = vocab * dim + layers * dim;  // token embedding, rms_att
  int64_t rows = dim, cols = dim;
  if (which == "wq") {
    offset += layer * dim * dim;
  } else if (which == "w1") {
    offset += layers * (2 * dim * dim + 2 * kv_dim * dim) + layers * dim + layer * hidden * dim;
    rows = hidden;
  } else {
    throw std::logic_error("unknown matrix " + which);
  }
  std::vector<float> buf(static_cast<size_t>(rows * cols));
  in.seekg(static_cast<std::streamoff>(sizeof hdr + offset * sizeof(float)));
  in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(buf.size() * sizeof(float)));
  if (!in) throw std::runtime_error("short read from stories260K.bin");
  return to_matrix(buf, rows, cols);
}

TEST(GlvqMeasure, DISABLED_Stories260K) {
  for (const char* which : {"wq", "w1"}) {
    const RowMatrixD w = stories_matrix(which, 0);
    const Eigen::MatrixXd h = correlated_hessian(w.cols(), 111);
    print_error_table((std::string("stories260K layer 0 ") + which + ", synthetic H").c_str(), w, h,
                      {"glvq:dim=8,bits=2", "glvq:dim=8,bits=3", "glvq:dim=8,bits=2,companding=0",
                       "glvq:dim=24,group=48,bits=2", "glvq:dim=24,group=48,bits=2,decoder=leech",
                       "glvq:dim=24,group=48,bits=3", "glvq:dim=24,group=48,bits=3,decoder=leech",
                       "glvq:dim=32,bits=2", "glvq:dim=32,bits=3"});
  }
}

TEST(GlvqMeasure, DISABLED_GaussianRateDistortion) {
  // Tall enough that the side information (16·D² bits per group) is small next to the codes.
  const RowMatrixD w = gaussian(4096, 384, 121);
  const Eigen::MatrixXd h = Eigen::MatrixXd::Identity(384, 384);
  llvq::Table table({"spec", "bpw", "MSE/dim", "Shannon D(R)", "gap dB", "seconds"});
  for (const char* base : {"glvq:dim=8,group=128", "glvq:dim=24,group=96", "glvq:dim=24,group=96,decoder=leech",
                           "glvq:dim=32,group=128"})
    for (int bits : {2, 3})
      for (const char* compand : {"1", "0"}) {
        if (std::string(base).find("leech") != std::string::npos && compand[0] == '1') continue;  // slow, see docs
        const std::string spec =
            std::string(base) + ",bits=" + std::to_string(bits) + ",learn=0,salience=0,companding=" + compand;
        llvq::GlvqReport r;
        const GlvqTensor t = llvq::glvq_quantize(w, h, GlvqConfig::parse(spec), &r);
        const RowMatrixD q = to_matrix(t.dequantize(), w.rows(), w.cols());
        const double mse = (q - w).squaredNorm() / static_cast<double>(w.size());
        const double bound = std::pow(2.0, -2.0 * bits);
        table.add_row({spec, llvq::strfmt("%.4f", t.bits_per_weight()), llvq::strfmt("%.4f", mse),
                       llvq::strfmt("%.4f", bound), llvq::strfmt("%.2f", 10 * std::log10(mse / bound)),
                       llvq::strfmt("%.1f", r.seconds)});
      }
  std::printf("\ni.i.d. N(0,1), 4096×384, H = I, learning off\n%s", table.to_markdown().c_str());
}

// Time for a Llama-7B-sized projection (4096×4096). The inputs are built in O(n²): weights
// correlated between neighbouring columns, H the AR(1) correlation ρ^|i−j| with ρ = 0.9.
TEST(GlvqMeasure, DISABLED_LargeLayer) {
  const RowMatrixD z = gaussian(4096, 4096, 161);
  RowMatrixD w = 0.02 * z;
  w.rightCols(4095) += 0.016 * z.leftCols(4095);
  Eigen::MatrixXd h(4096, 4096);
  for (Eigen::Index i = 0; i < 4096; ++i)
    for (Eigen::Index j = 0; j < 4096; ++j) h(i, j) = std::pow(0.9, std::abs(static_cast<double>(i - j)));
  print_error_table("correlated weights 4096×4096", w, h, {"glvq:dim=8,bits=2"});
}

}  // namespace
