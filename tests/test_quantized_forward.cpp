// QuantizedLinear on the compressed codes (fused decode + GEMV per token, decode + GEMM for
// batches) computes what the dequantized fp32 weights compute.
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>

#include "llvq/calibration.hpp"
#include "llvq/kernels.hpp"
#include "llvq/llama.hpp"
#include "llvq/quantized_model.hpp"
#include "model_test_util.hpp"
#include "random.hpp"

namespace {
using namespace llvq;

double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (float x : v) m = std::max(m, static_cast<double>(std::abs(x)));
  return m;
}

// Both execution paths on the same inputs; the difference is float summation order only.
void expect_same_outputs(const std::shared_ptr<const QuantizedTensor>& tensor, int64_t n_tokens, uint64_t seed) {
  const TensorHeader& t = tensor->header();
  const QuantizedLinear fused(tensor, QuantizedLinear::Execution::Kernels);
  const QuantizedLinear dense(tensor, QuantizedLinear::Execution::Dense);
  ASSERT_TRUE(fused.uses_kernels()) << t.codec << " / " << t.tail_codec;
  ASSERT_FALSE(dense.uses_kernels());
  const auto x = llvq::test::gaussian(static_cast<size_t>(n_tokens * t.cols), seed);
  std::vector<float> a(static_cast<size_t>(n_tokens * t.rows)), b(a.size());
  fused.forward(x.data(), a.data(), n_tokens);
  dense.forward(x.data(), b.data(), n_tokens);
  const double tol = 1e-5 * max_abs(b) * std::sqrt(static_cast<double>(t.cols)) + 1e-6;
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], tol) << t.codec << " output " << i;
}

struct Case {
  std::string codec;
  TailMode tail;
  HadamardMode hadamard;
};

class QuantizedForward : public ::testing::TestWithParam<Case> {};

TEST_P(QuantizedForward, KernelsMatchDequantizedWeights) {
  const Case& c = GetParam();
  // 37 rows (not a multiple of any tile), 100 columns (4 blocks of 24 + a tail of 4, or padding).
  const int64_t rows = 37, cols = 100;
  const auto w = llvq::test::gaussian(static_cast<size_t>(rows * cols), 7);
  TensorQuantOptions o;
  o.codec = c.codec;
  o.rounding = Rounding::Rtn;
  o.tail = c.tail;
  o.hadamard = c.hadamard;
  o.hadamard_seed = 11;
  const auto t = quantize_tensor(w.data(), rows, cols, {}, o).tensor;
  // 6 tokens: fused for the Leech layers (batched kernel), decoded for the others.
  for (int64_t n : {1, 3, 6, 9}) expect_same_outputs(t, n, 100 + static_cast<uint64_t>(n));
}

INSTANTIATE_TEST_SUITE_P(Codecs, QuantizedForward,
                         ::testing::Values(Case{"llvq-sg", TailMode::Pad, HadamardMode::None},
                                           Case{"llvq-sg", TailMode::Codec, HadamardMode::In},
                                           Case{"llvq-ss", TailMode::Pad, HadamardMode::InOut},
                                           Case{"e8p", TailMode::Codec, HadamardMode::In},
                                           Case{"scalar:bpw=2,group=20", TailMode::Pad, HadamardMode::InOut},
                                           Case{"scalar:bpw=3,kind=uniform", TailMode::Auto, HadamardMode::None}),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           std::string name = std::to_string(info.index) + "_" + info.param.codec + "_" +
                                              to_string(info.param.tail) + "_" + to_string(info.param.hadamard);
                           for (char& ch : name)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return name;
                         });

// A codec without kernels (PVQ) falls back to dequantized weights.
TEST(QuantizedForwardFallback, CodecWithoutKernelsUsesDenseWeights) {
  const auto w = llvq::test::gaussian(8 * 48, 3);
  TensorQuantOptions o;
  o.codec = "pvq:bpw=2";
  o.rounding = Rounding::Rtn;
  const QuantizedLinear q(quantize_tensor(w.data(), 8, 48, {}, o).tensor);
  EXPECT_FALSE(q.uses_kernels());
}

// GLVQ with the Leech decoder has no kernels: dequantized weights (the Babai codebook runs
// from its codes: test_kernels_glvq.cpp).
TEST(QuantizedForwardFallback, GlvqLeechDecoderUsesDenseWeights) {
  const auto w = llvq::test::gaussian(8 * 48, 4);
  TensorQuantOptions o;
  o.codec = "glvq:dim=24,group=48,bits=2,learn=0,decoder=leech";
  o.hadamard = HadamardMode::None;
  const auto t = quantize_tensor(w.data(), 8, 48, {}, o).tensor;
  const QuantizedLinear q(t);
  EXPECT_FALSE(q.uses_kernels());
  const auto x = llvq::test::gaussian(48, 5);
  std::vector<float> y(8);
  q.forward(x.data(), y.data(), 1);
  const auto dense = t->dequantize();
  for (int r = 0; r < 8; ++r) {
    double ref = 0;
    for (int c = 0; c < 48; ++c) ref += static_cast<double>(dense[static_cast<size_t>(r * 48 + c)]) * x[static_cast<size_t>(c)];
    EXPECT_NEAR(y[static_cast<size_t>(r)], ref, 1e-4);
  }
}

// Whole model: generation (one token at a time → fused GEMV) and a prefill window (→ decode
// + GEMM) give the logits of the same model run on dequantized weights.
TEST(QuantizedForwardModel, LogitsThroughKernelsEqualLogitsThroughDequantizedWeights) {
  LlamaConfig cfg = test::small_llama_config();
  cfg.hidden_dim = 100;  // not a multiple of 24: the down projection has a tail
  cfg.vocab_size = 64;
  LlamaModel fused = random_llama(cfg, 5);
  ModelQuantOptions o;
  o.tensor.codec = "llvq-sg";
  o.tensor.rounding = Rounding::Rtn;
  o.progress = false;
  quantize_model(fused, {}, o);
  LlamaModel dense = fused;  // shares the layers; replace them with dequantized copies
  for (const LinearSlot& s : linear_slots(dense)) {
    const auto* q = dynamic_cast<const QuantizedLinear*>(s.slot->get());
    ASSERT_NE(q, nullptr) << s.name;
    ASSERT_TRUE(q->uses_kernels()) << s.name;
    *s.slot = std::make_shared<QuantizedLinear>(q->tensor(), QuantizedLinear::Execution::Dense);
  }
  const std::vector<int32_t> prompt = {1, 5, 9, 13, 17, 21, 25, 29, 33, 37};
  LlamaRunner rf(fused), rd(dense);
  const auto window_f = rf.forward_window(prompt), window_d = rd.forward_window(prompt);
  const double tol = 1e-4 * max_abs(window_d);
  for (size_t i = 0; i < window_f.size(); ++i) ASSERT_NEAR(window_f[i], window_d[i], tol) << "prefill logit " << i;
  for (int32_t tok : {3, 8, 40}) {
    const std::vector<int32_t> one = {tok};
    const auto a = rf.append(one, false), b = rd.append(one, false);
    for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], tol) << "generated token logit " << i;
  }
}

}  // namespace
