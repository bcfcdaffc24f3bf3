// The token embedding compressed with a codec (`quantize --embedding-codec`): stored as codes
// in GGUF, decoded on load, the tied classifier running from the same codes, and `convert`
// making it dense again (cli/test_embedding_codec_cli.cpp). A small random Llama, so no data
// is needed.
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <span>
#include <vector>

#include "llvq/calibration.hpp"
#include "llvq/llama.hpp"
#include "llvq/model_io.hpp"
#include "llvq/quantize.hpp"
#include "llvq/quantized_model.hpp"
#include "model_test_util.hpp"

namespace llvq {
namespace {

TEST(EmbeddingCodec, StoredAsCodesAndTheTiedClassifierUsesThem) {
  LlamaModel m = test::small_random_llama();
  const std::vector<float> original = m.tok_embeddings;
  const ModelQuantReport r = test::quantize_embedding_only(m, "e8p");
  ASSERT_TRUE(r.embedding.has_value());
  EXPECT_EQ(r.quantized_weights, 0u);  // the linear layers were kept
  EXPECT_DOUBLE_EQ(r.embedding->bpw, 2.0 + 16.0 / 48);  // 16 bits per 8 weights and a bf16 row scale
  ASSERT_NE(m.compressed_embedding, nullptr);
  EXPECT_EQ(m.output, m.compressed_embedding);
  EXPECT_TRUE(test::bits_equal(m.tok_embeddings, m.compressed_embedding->dense_weight()));
  EXPECT_FALSE(test::bits_equal(m.tok_embeddings, original));

  test::TempDir dir("embedding_codec");
  const std::string path = dir.path() + "/emb.gguf";
  save_gguf(m, path);
  const LlamaModel back = load_model(path);
  ASSERT_NE(back.compressed_embedding, nullptr);
  EXPECT_EQ(back.output, back.compressed_embedding);
  EXPECT_TRUE(test::bits_equal(back.tok_embeddings, m.tok_embeddings));
  // The same logits from the saved file as from the model in memory.
  const std::vector<int32_t> tokens = {1, 5, 9, 70, 3};
  const auto a = LlamaRunner(m).forward_window(tokens), b = LlamaRunner(back).forward_window(tokens);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-4f * (1.0f + std::abs(a[i])));
}

// Calibration tokens for the small random Llama: four windows of its 32 positions.
std::vector<int32_t> calibration_tokens(const LlamaModel& m) {
  std::vector<int32_t> t(128);
  for (size_t i = 0; i < t.size(); ++i) t[i] = static_cast<int32_t>((i * 37 + 11) % static_cast<size_t>(m.config.vocab_size));
  return t;
}

ModelQuantOptions embedding_options(Rounding rounding, HadamardMode hadamard) {
  ModelQuantOptions o;
  o.tensor.codec = kKeepCodec;
  o.tensor.rounding = rounding;
  o.tensor.hadamard = hadamard;
  o.embedding_codec = "e8p";
  o.calib_ctx = 32;
  o.progress = false;
  return o;
}

// tr(ΔW·H·ΔWᵀ) / tr(W·H·Wᵀ) of the decoded embedding `q` against `w`.
double weighted_error(const std::vector<float>& w, const std::vector<float>& q, const Eigen::MatrixXd& h) {
  const auto rows = static_cast<Eigen::Index>(w.size()) / h.rows();
  using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::MatrixXd wd = Eigen::Map<const RowMat>(w.data(), rows, h.rows()).cast<double>();
  const Eigen::MatrixXd d = Eigen::Map<const RowMat>(q.data(), rows, h.rows()).cast<double>() - wd;
  return (d * h * d.transpose()).trace() / (wd * h * wd.transpose()).trace();
}

// A tied embedding is also the classifier: with GPTQ it is rounded on the classifier's input
// Hessian (the final norm's output over every calibration token, collected here independently
// of quantize_model): the same codes as quantize_tensor on that Hessian, an error on it below
// RTN's, and a file that keeps it (Hadamard rotation included) and gives the same logits.
TEST(EmbeddingCodec, TiedEmbeddingIsRoundedOnTheClassifierHessian) {
  LlamaModel reference = test::small_random_llama();
  const std::vector<int32_t> tokens = calibration_tokens(reference);
  Eigen::MatrixXd h;
  {
    HessianCapture capture(reference, true);
    LlamaRunner runner(reference, 32);
    for (size_t begin = 0; begin < tokens.size(); begin += 32) {
      runner.reset();
      runner.append(std::span<const int32_t>(tokens.data() + begin, 32), true);
    }
    EXPECT_EQ(capture.input(kClassifierInput).count(), tokens.size());
    h = capture.input(kClassifierInput).hessian();
  }
  const std::vector<float> original = reference.tok_embeddings;

  LlamaModel rtn = test::small_random_llama();
  quantize_model(rtn, tokens, embedding_options(Rounding::Rtn, HadamardMode::None));
  LlamaModel gptq = test::small_random_llama();
  const ModelQuantOptions o = embedding_options(Rounding::Gptq, HadamardMode::In);
  const ModelQuantReport r = quantize_model(gptq, tokens, o);
  ASSERT_TRUE(r.embedding.has_value());
  TensorQuantOptions direct = o.tensor;
  direct.codec = o.embedding_codec;
  direct.hadamard_seed = hadamard_seed_for(o.seed, kClassifierInput);
  const auto expected =
      quantize_tensor(original.data(), reference.config.vocab_size, reference.config.dim, h, direct).tensor;
  EXPECT_TRUE(test::bits_equal(gptq.tok_embeddings, expected->dequantize()));
  const double e_rtn = weighted_error(original, rtn.tok_embeddings, h);
  const double e_gptq = weighted_error(original, gptq.tok_embeddings, h);
  EXPECT_NEAR(r.embedding->weighted_error, e_gptq, 1e-6 * e_gptq);  // the report's error is on that Hessian
  EXPECT_LT(e_gptq, e_rtn);

  test::TempDir dir("embedding_codec_gptq");
  const std::string path = dir.path() + "/emb.gguf";
  save_gguf(gptq, path);
  const LlamaModel back = load_model(path);
  ASSERT_NE(back.compressed_embedding, nullptr);
  EXPECT_TRUE(test::bits_equal(back.tok_embeddings, gptq.tok_embeddings));
  const std::span<const int32_t> window(tokens.data(), 32);
  const auto a = LlamaRunner(gptq).forward_window(window), b = LlamaRunner(back).forward_window(window);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-4f * (1.0f + std::abs(a[i])));
}

// An untied embedding is a lookup table only: GPTQ runs leave it to RTN without rotation.
TEST(EmbeddingCodec, UntiedEmbeddingIsRoundedToNearest) {
  auto untie = [](LlamaModel& m) {
    m.config.tied_embeddings = false;
    m.output = std::make_shared<DenseLinear>(m.config.vocab_size, m.config.dim, m.tok_embeddings);
  };
  LlamaModel rtn = test::small_random_llama(), gptq = test::small_random_llama();
  untie(rtn);
  untie(gptq);
  const std::vector<int32_t> tokens = calibration_tokens(rtn);
  quantize_model(rtn, tokens, embedding_options(Rounding::Rtn, HadamardMode::None));
  quantize_model(gptq, tokens, embedding_options(Rounding::Gptq, HadamardMode::In));
  EXPECT_TRUE(test::bits_equal(rtn.tok_embeddings, gptq.tok_embeddings));
  EXPECT_NE(gptq.output, gptq.compressed_embedding);
}

}  // namespace
}  // namespace llvq
