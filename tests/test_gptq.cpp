#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <random>

#include "llvq/error.hpp"
#include "llvq/gptq.hpp"

namespace {
using llvq::RowMatrixD;

Eigen::MatrixXd random_matrix(Eigen::Index r, Eigen::Index c, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g;
  Eigen::MatrixXd m(r, c);
  for (Eigen::Index i = 0; i < r; ++i)
    for (Eigen::Index j = 0; j < c; ++j) m(i, j) = g(rng);
  return m;
}

// Correlated calibration inputs: X = Z·A with a random mixing matrix.
Eigen::MatrixXd correlated_hessian(Eigen::Index dim, uint64_t seed) {
  const Eigen::MatrixXd x = random_matrix(4 * dim, dim, seed) * random_matrix(dim, dim, seed + 1);
  return x.transpose() * x / static_cast<double>(x.rows());
}

constexpr double kStep = 0.25;
float round_to_grid(double v) { return static_cast<float>(kStep * std::nearbyint(v / kStep)); }

llvq::BlockRounder scalar_rounder() {
  return [](size_t, size_t col0, size_t width, const double* current, float* out) {
    for (size_t k = 0; k < width; ++k) out[k] = round_to_grid(current[col0 + k]);
  };
}

// The textbook algorithm in its original (OBQ) form: no Cholesky, explicit H⁻¹ with the
// quantized column eliminated after each step.
RowMatrixD textbook_gptq(RowMatrixD w, Eigen::MatrixXd h, double damp) {
  h.diagonal().array() += damp * h.diagonal().mean();
  Eigen::MatrixXd hinv = h.inverse();
  RowMatrixD q(w.rows(), w.cols());
  for (Eigen::Index j = 0; j < w.cols(); ++j) {
    for (Eigen::Index r = 0; r < w.rows(); ++r) {
      q(r, j) = round_to_grid(w(r, j));
      const double e = (w(r, j) - q(r, j)) / hinv(j, j);
      for (Eigen::Index k = j + 1; k < w.cols(); ++k) w(r, k) -= e * hinv(j, k);
    }
    const Eigen::VectorXd col = hinv.col(j);
    hinv -= col * col.transpose() / col(j);
  }
  return q;
}

TEST(Hessian, MatchesDirectComputation) {
  const Eigen::MatrixXd x = random_matrix(50, 7, 3);
  Eigen::MatrixXf xf = x.cast<float>();
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> xr = xf;
  llvq::HessianAccumulator acc(7);
  acc.add(xr.data(), 20);  // streamed in two chunks
  acc.add(xr.data() + 20 * 7, 30);
  EXPECT_EQ(acc.count(), 50u);
  const Eigen::MatrixXd direct = xf.cast<double>().transpose() * xf.cast<double>() / 50.0;
  // Each batch's XᵀX is a float GEMM (its rounding is float's), batches are summed in double.
  EXPECT_LT((acc.hessian() - direct).cwiseAbs().maxCoeff(), 1e-6 * direct.cwiseAbs().maxCoeff());
  EXPECT_THROW(llvq::HessianAccumulator(3).hessian(), llvq::InputError);
}

// Wide inputs are summed block by block over column bands (upper blocks only, mirrored):
// widths that split into several, uneven bands give the full, exactly symmetric product.
TEST(Hessian, BandedProductOfWideInputsMatchesDirectComputation) {
  for (const int dim : {257, 600, 1030}) {
    const Eigen::MatrixXd x = random_matrix(40, dim, 11);
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> xr = x.cast<float>();
    llvq::HessianAccumulator acc(static_cast<size_t>(dim));
    acc.add(xr.data(), 25);
    acc.add(xr.data() + 25 * dim, 15);
    const Eigen::MatrixXd direct = xr.cast<double>().transpose() * xr.cast<double>() / 40.0;
    const Eigen::MatrixXd h = acc.hessian();
    EXPECT_LT((h - direct).cwiseAbs().maxCoeff(), 1e-5 * direct.cwiseAbs().maxCoeff()) << dim;
    EXPECT_TRUE(h == h.transpose()) << dim;
  }
}

TEST(Gptq, ScalarBlockOneIsTextbookGptq) {
  const RowMatrixD w = random_matrix(12, 48, 10);
  const Eigen::MatrixXd h = correlated_hessian(48, 20);
  llvq::GptqOptions o;
  o.block = 1;
  o.lazy = 8;
  o.damp = 0.01;
  const auto ours = llvq::gptq_quantize(w, h, o, scalar_rounder());
  const RowMatrixD ref = textbook_gptq(w, h, o.damp);
  EXPECT_EQ(ours.quantized, ref);
  // And it beats round-to-nearest in the Hessian metric.
  RowMatrixD rtn = w.unaryExpr([](double v) { return double(round_to_grid(v)); });
  EXPECT_LT(llvq::relative_weighted_error(w, ours.quantized, h), llvq::relative_weighted_error(w, rtn, h));
}

TEST(Gptq, LazyBatchSizeDoesNotChangeTheResult) {
  const RowMatrixD w = random_matrix(9, 96, 11);
  const Eigen::MatrixXd h = correlated_hessian(96, 21);
  llvq::GptqOptions a, b;
  a.block = b.block = 24;
  a.lazy = 24;
  b.lazy = 96;
  EXPECT_EQ(llvq::gptq_quantize(w, h, a, scalar_rounder()).quantized,
            llvq::gptq_quantize(w, h, b, scalar_rounder()).quantized);
}

TEST(Gptq, MixedBlockWidthsMatchUniformBlocksWhenEqual) {
  const RowMatrixD w = random_matrix(6, 72, 16);
  const Eigen::MatrixXd h = correlated_hessian(72, 26);
  llvq::GptqOptions uniform, mixed;
  mixed.blocks = {24, 24, 24};
  EXPECT_EQ(llvq::gptq_quantize(w, h, uniform, scalar_rounder()).quantized,
            llvq::gptq_quantize(w, h, mixed, scalar_rounder()).quantized);
  // A lattice-width body with a narrower tail: every width is honoured.
  llvq::GptqOptions tail;
  tail.blocks = {24, 24, 8, 8, 8};
  std::vector<size_t> seen;
  const llvq::BlockRounder record = [&](size_t row, size_t col0, size_t width, const double* cur, float* out) {
    if (row == 0) seen.push_back(col0 * 100 + width);
    scalar_rounder()(row, col0, width, cur, out);
  };
  tail.lazy = 1000;
  llvq::gptq_quantize(w, h, tail, record);
  EXPECT_EQ(seen, (std::vector<size_t>{24, 2424, 4808, 5608, 6408}));
  tail.blocks = {24, 24, 8};
  EXPECT_THROW(llvq::gptq_quantize(w, h, tail, scalar_rounder()), llvq::InputError);
}

TEST(Gptq, IdentityHessianIsRoundToNearest) {
  const RowMatrixD w = random_matrix(5, 48, 12);
  llvq::GptqOptions o;
  o.damp = 0.0;
  const auto res = llvq::gptq_quantize(w, Eigen::MatrixXd::Identity(48, 48), o, scalar_rounder());
  const RowMatrixD rtn = w.unaryExpr([](double v) { return double(round_to_grid(v)); });
  EXPECT_EQ(res.quantized, rtn);
}

TEST(Gptq, BlockFeedbackBeatsRoundToNearest) {
  const RowMatrixD w = random_matrix(16, 96, 13);
  const Eigen::MatrixXd h = correlated_hessian(96, 23);
  const auto res = llvq::gptq_quantize(w, h, llvq::GptqOptions{}, scalar_rounder());
  const RowMatrixD rtn = w.unaryExpr([](double v) { return double(round_to_grid(v)); });
  EXPECT_LT(llvq::relative_weighted_error(w, res.quantized, h), 0.9 * llvq::relative_weighted_error(w, rtn, h));
}

TEST(Gptq, DeadColumnsAreZeroed) {
  RowMatrixD w = random_matrix(4, 24, 14);
  Eigen::MatrixXd h = correlated_hessian(24, 24);
  h.row(5).setZero();
  h.col(5).setZero();
  const auto res = llvq::gptq_quantize(w, h, llvq::GptqOptions{}, scalar_rounder());
  EXPECT_EQ(res.dead_columns, 1);
  for (Eigen::Index r = 0; r < 4; ++r) EXPECT_EQ(res.quantized(r, 5), 0.0);
}

TEST(Gptq, BadInputIsRejected) {
  const RowMatrixD w = random_matrix(4, 30, 15);
  EXPECT_THROW(llvq::gptq_quantize(w, Eigen::MatrixXd::Identity(30, 30), {}, scalar_rounder()), llvq::InputError);
  const RowMatrixD w2 = random_matrix(4, 24, 15);
  EXPECT_THROW(llvq::gptq_quantize(w2, Eigen::MatrixXd::Identity(23, 23), {}, scalar_rounder()), llvq::InputError);
  RowMatrixD w3 = w2;
  w3(1, 1) = std::nan("");
  EXPECT_THROW(llvq::gptq_quantize(w3, Eigen::MatrixXd::Identity(24, 24), {}, scalar_rounder()), llvq::InputError);
}
}  // namespace

namespace {
TEST(ScaleSolve, RecoversKnownScalesAndReducesError) {
  const RowMatrixD w = random_matrix(5, 48, 30);
  const Eigen::MatrixXd h = correlated_hessian(48, 31);
  // Q = W with group g scaled by 1/(g+2): the exact solution is s_g = g+2.
  RowMatrixD q = w;
  for (int g = 0; g < 2; ++g) q.middleCols(g * 24, 24) /= (g + 2);
  const RowMatrixD s = llvq::solve_group_scales(w, q, h, 24, 0.0);
  for (Eigen::Index r = 0; r < 5; ++r) {
    EXPECT_NEAR(s(r, 0), 2.0, 1e-9);
    EXPECT_NEAR(s(r, 1), 3.0, 1e-9);
  }
  // On a real quantization the solved per-row scale never increases the weighted error.
  const auto res = llvq::gptq_quantize(w, h, llvq::GptqOptions{}, scalar_rounder());
  const RowMatrixD s_row = llvq::solve_group_scales(w, res.quantized, h, 48, 0.0);
  RowMatrixD rescaled = res.quantized;
  for (Eigen::Index r = 0; r < 5; ++r) rescaled.row(r) *= s_row(r, 0);
  EXPECT_LE(llvq::relative_weighted_error(w, rescaled, h), llvq::relative_weighted_error(w, res.quantized, h) + 1e-12);
  EXPECT_THROW(llvq::solve_group_scales(w, q, h, 7, 0.0), llvq::InputError);
}
}  // namespace
