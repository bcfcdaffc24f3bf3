#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "llvq/codec.hpp"
#include "llvq/error.hpp"
#include "llvq/quantize.hpp"
#include "random.hpp"

namespace {
using namespace llvq;

Eigen::MatrixXd correlated_hessian(int64_t dim, uint64_t seed) {
  const auto z = llvq::test::gaussian(static_cast<size_t>(4 * dim * dim), seed);
  Eigen::MatrixXd x(4 * dim, dim);
  for (int64_t i = 0; i < 4 * dim; ++i)
    for (int64_t j = 0; j < dim; ++j) x(i, j) = z[static_cast<size_t>(i * dim + j)];
  const auto m = llvq::test::gaussian(static_cast<size_t>(dim * dim), seed + 7);
  Eigen::MatrixXd mix(dim, dim);
  for (int64_t i = 0; i < dim; ++i)
    for (int64_t j = 0; j < dim; ++j) mix(i, j) = (i == j ? 1.0 : 0.0) + 0.3 * m[static_cast<size_t>(i * dim + j)];
  x = x * mix;
  return x.transpose() * x / static_cast<double>(x.rows());
}

double weighted_error(const std::vector<float>& w, const std::vector<float>& q, int64_t rows, int64_t cols,
                      const Eigen::MatrixXd& h) {
  RowMatrixD a(rows, cols), b(rows, cols);
  for (int64_t i = 0; i < rows * cols; ++i) {
    a.data()[i] = w[static_cast<size_t>(i)];
    b.data()[i] = q[static_cast<size_t>(i)];
  }
  return relative_weighted_error(a, b, h);
}

struct Case {
  std::string codec;
  int64_t cols;
  HadamardMode hadamard;
  TailMode tail;
  Rounding rounding;
};

class PipelineCases : public ::testing::TestWithParam<Case> {};

// The stored form dequantizes (through padding, tail, scales and the inverse Hadamard
// transforms) to weights whose error in the original basis is the error the pipeline
// reported in its own (rotated, padded) basis.
TEST_P(PipelineCases, StoredFormReproducesTheReportedError) {
  const Case c = GetParam();
  const int64_t rows = 12;
  const auto w = llvq::test::gaussian(static_cast<size_t>(rows * c.cols), 5);
  const Eigen::MatrixXd h = correlated_hessian(c.cols, 6);
  TensorQuantOptions o;
  o.codec = c.codec;
  o.hadamard = c.hadamard;
  o.tail = c.tail;
  o.rounding = c.rounding;
  o.hadamard_seed = 77;
  const auto res = quantize_tensor(w.data(), rows, c.cols, h, o);
  res.tensor->validate("test");
  const auto q = res.tensor->dequantize();
  ASSERT_EQ(q.size(), w.size());
  EXPECT_NEAR(weighted_error(w, q, rows, c.cols, h), res.weighted_error, 1e-6 * (1 + res.weighted_error));
  EXPECT_LT(res.weighted_error, 0.5);
  // The exact rate: every row's codes and side information plus the stored scales.
  const TensorHeader& stored = res.tensor->header();
  const auto body = make_codec(stored.codec);
  double bits = double(rows) * body->row_bits(size_t(stored.body_cols));
  if (!stored.tail_codec.empty()) bits += double(rows) * make_codec(stored.tail_codec)->row_bits(size_t(stored.tail_cols));
  EXPECT_DOUBLE_EQ(res.tensor->bits_per_weight(), bits / double(rows * c.cols));
  // Deterministic: the same inputs give the same bytes.
  const auto again = quantize_tensor(w.data(), rows, c.cols, h, o);
  EXPECT_EQ(again.tensor->code_blobs(), res.tensor->code_blobs());
}

INSTANTIATE_TEST_SUITE_P(
    Layouts, PipelineCases,
    ::testing::Values(Case{"e8p", 64, HadamardMode::None, TailMode::Pad, Rounding::Gptq},
                      Case{"e8p", 60, HadamardMode::In, TailMode::Codec, Rounding::Gptq},
                      Case{"e8p", 60, HadamardMode::InOut, TailMode::Pad, Rounding::Rtn},
                      Case{"e8p", 68, HadamardMode::In, TailMode::Auto, Rounding::SphericalGptq},
                      Case{"scalar:bpw=2,kind=lloyd,group=0", 43, HadamardMode::In, TailMode::Auto, Rounding::Gptq},
                      Case{"scalar:bpw=3,kind=uniform,group=16", 64, HadamardMode::None, TailMode::Auto,
                           Rounding::SphericalGptq}));

TEST(Pipeline, GptqBeatsRtnForEveryCodec) {
  const int64_t rows = 16, cols = 96;
  const auto w = llvq::test::gaussian(static_cast<size_t>(rows * cols), 8);
  const Eigen::MatrixXd h = correlated_hessian(cols, 9);
  for (const std::string codec : {"e8p", "scalar:bpw=2,kind=lloyd,group=32", "scalar:bpw=4,kind=uniform,group=0"}) {
    TensorQuantOptions o;
    o.codec = codec;
    o.hadamard = HadamardMode::None;
    o.rounding = Rounding::Rtn;
    const double rtn = quantize_tensor(w.data(), rows, cols, h, o).weighted_error;
    o.rounding = Rounding::Gptq;
    const double gptq = quantize_tensor(w.data(), rows, cols, h, o).weighted_error;
    EXPECT_LT(gptq, rtn) << codec;
  }
}

// Without a Hessian, rounding skips GPTQ's n×n algebra; the codes must be exactly those of
// GPTQ run with an explicit identity Hessian (zero error feedback), with and without the
// input rotation, for a body-only and a tail layout.
TEST(Pipeline, RoundingWithoutAHessianEqualsGptqWithTheIdentity) {
  const int64_t rows = 12, cols = 100;
  const auto w = llvq::test::gaussian(static_cast<size_t>(rows * cols), 13);
  for (const std::string codec : {"llvq-sg", "e8p", "scalar:bpw=3,kind=lloyd,group=20"}) {
    for (const HadamardMode had : {HadamardMode::None, HadamardMode::In}) {
      TensorQuantOptions o;
      o.codec = codec;
      o.hadamard = had;
      o.hadamard_seed = 3;
      o.rounding = Rounding::Rtn;
      const TensorQuantResult fast = quantize_tensor(w.data(), rows, cols, Eigen::MatrixXd(), o);
      o.rounding = Rounding::Gptq;
      const TensorQuantResult slow = quantize_tensor(w.data(), rows, cols, Eigen::MatrixXd::Identity(cols, cols), o);
      const std::string what = codec + " hadamard=" + to_string(had);
      EXPECT_EQ(fast.tensor->code_blobs(), slow.tensor->code_blobs()) << what;
      EXPECT_EQ(fast.layout, slow.layout) << what;
      // The explicit identity goes through the float Hadamard transform (Q·I·Qᵀ is the
      // identity only up to float rounding), so its metric agrees to float precision.
      EXPECT_NEAR(fast.weighted_error, slow.weighted_error, 1e-7 * slow.weighted_error) << what;
    }
  }
}

TEST(Pipeline, TailLayoutsAreBothMeasuredAndTheBetterOneKept) {
  const int64_t rows = 8, cols = 40;
  const auto w = llvq::test::gaussian(static_cast<size_t>(rows * cols), 10);
  TensorQuantOptions o;
  o.codec = "scalar:bpw=2,kind=lloyd,group=16";  // 40 = 2·16 + 8: pad to 48, or an 8-wide E8P tail
  o.hadamard = HadamardMode::None;
  o.tail = TailMode::Pad;
  const auto pad = quantize_tensor(w.data(), rows, cols, {}, o);
  o.tail = TailMode::Codec;
  const auto tail = quantize_tensor(w.data(), rows, cols, {}, o);
  o.tail = TailMode::Auto;
  const auto best = quantize_tensor(w.data(), rows, cols, {}, o);
  EXPECT_EQ(pad.layout, "pad");
  EXPECT_EQ(tail.layout.rfind("tail:", 0), 0u);
  auto merit = [](const TensorQuantResult& r) { return r.weighted_error * std::pow(4.0, r.tensor->bits_per_weight()); };
  EXPECT_EQ(best.layout, merit(pad) <= merit(tail) ? pad.layout : tail.layout);
  EXPECT_GT(pad.tensor->header().padding(), 0);
  EXPECT_EQ(tail.tensor->header().padding(), 0);
}

TEST(Pipeline, BadInputIsRejected) {
  auto w = llvq::test::gaussian(48, 11);
  TensorQuantOptions o;
  o.codec = "e8p";
  EXPECT_THROW(quantize_tensor(w.data(), 2, 24, Eigen::MatrixXd::Identity(23, 23), o), InputError);
  w[5] = std::nanf("");
  EXPECT_THROW(quantize_tensor(w.data(), 2, 24, {}, o), InputError);
  w[5] = 0;
  o.codec = "nosuchcodec";
  EXPECT_THROW(quantize_tensor(w.data(), 2, 24, {}, o), InputError);
  EXPECT_THROW(parse_rounding("gptq2"), InputError);
  EXPECT_THROW(parse_hadamard("both"), InputError);
}

// Weights whose scale no code can store (|w| near float's maximum) are an InputError from
// every rounding, on many rows at once: the codec throws inside the pipeline's parallel loops,
// and the error must reach the caller instead of ending the process.
TEST(Pipeline, UnstorableScaleIsAnErrorInEveryRounding) {
  const int64_t rows = 32, cols = 48;
  std::vector<float> w = llvq::test::gaussian(static_cast<size_t>(rows * cols), 14);
  for (float& v : w) v *= 3e38f;
  for (float& v : w) v = std::clamp(v, -3.4e38f, 3.4e38f);
  const Eigen::MatrixXd h = correlated_hessian(cols, 15);
  for (const Rounding r : {Rounding::Rtn, Rounding::Gptq, Rounding::SphericalGptq})
    for (const std::string codec : {"llvq-sg", "e8p", "scalar:bpw=2,group=24"}) {
      TensorQuantOptions o;
      o.codec = codec;
      o.rounding = r;
      o.hadamard = HadamardMode::None;
      EXPECT_THROW(quantize_tensor(w.data(), rows, cols, h, o), InputError) << codec << " " << to_string(r);
    }
}

// Spherical GPTQ re-solves each row's scale in the Hessian metric; where that metric is nearly
// rank one (one huge input channel, as in SmolLM2's blk.11.ffn_down) and a row has no weight
// on that channel, the least-squares factor of some rows is ≤ 0, which no scale can store
// (it was an error, thrown from inside a parallel loop): those rows keep the codec's own
// scale, and the tensor still beats zero in that metric.
TEST(Pipeline, SphericalGptqKeepsTheCodecScaleWhereTheSolvedOneIsNoScale) {
  const int64_t rows = 64, cols = 48;
  // H = 10⁶·e₀e₀ᵀ + A·Aᵀ with A of rank 4.
  const auto a_values = llvq::test::gaussian(static_cast<size_t>(cols * 4), 16);
  Eigen::MatrixXd a(cols, 4);
  for (int64_t i = 0; i < cols * 4; ++i) a.data()[i] = a_values[static_cast<size_t>(i)];
  a.row(0).setZero();
  Eigen::MatrixXd h = a * a.transpose();
  h(0, 0) = 1e6;
  const Eigen::MatrixXd null_projector =
      Eigen::MatrixXd::Identity(cols, cols) - a * (a.transpose() * a).inverse() * a.transpose();
  const auto z = llvq::test::gaussian(static_cast<size_t>(rows * cols), 17);
  std::vector<float> w(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) {
    Eigen::VectorXd row(cols);
    for (int64_t c = 0; c < cols; ++c) row[c] = z[static_cast<size_t>(r * cols + c)];
    if (r % 4 == 0) {  // a quarter of the rows: nothing on channel 0, almost nothing in A's range
      Eigen::VectorXd in_null = null_projector * row;
      in_null[0] = 0;
      row = in_null + 1e-3 * row;
      row[0] = 0;
    }
    for (int64_t c = 0; c < cols; ++c) w[static_cast<size_t>(r * cols + c)] = static_cast<float>(row[c]);
  }
  TensorQuantOptions o;
  o.codec = "llvq-sg";
  o.rounding = Rounding::SphericalGptq;
  o.hadamard = HadamardMode::None;
  TensorQuantResult res;
  ASSERT_NO_THROW(res = quantize_tensor(w.data(), rows, cols, h, o));
  const std::vector<float> q = res.tensor->dequantize();
  for (const float v : q) ASSERT_TRUE(std::isfinite(v));
  EXPECT_LT(res.weighted_error, 1.0);
  EXPECT_NEAR(weighted_error(w, q, rows, cols, h), res.weighted_error, 1e-6 * (1 + res.weighted_error));
}

TEST(Pipeline, CorruptStoredTensorIsRejected) {
  const auto w = llvq::test::gaussian(8 * 64, 12);
  TensorQuantOptions o;
  o.codec = "e8p";
  const auto t = quantize_tensor(w.data(), 8, 64, {}, o).tensor;
  ASSERT_NO_THROW(make_quantized_tensor(t->header(), t->code_blobs(), "t"));
  CodeBlobs short_body = t->code_blobs();
  ASSERT_EQ(short_body[0].first, "body");
  short_body[0].second.pop_back();
  EXPECT_THROW(make_quantized_tensor(t->header(), short_body, "t"), InputError);
  TensorHeader bad = t->header();
  bad.body_cols = 200;
  EXPECT_THROW(make_quantized_tensor(bad, t->code_blobs(), "t"), InputError);
  bad = t->header();
  bad.tail_codec = "e8p";
  EXPECT_THROW(make_quantized_tensor(bad, t->code_blobs(), "t"), InputError);
  EXPECT_THROW(make_quantized_tensor(t->header(), {{"glvq", {}}}, "t"), InputError);
}
}  // namespace
