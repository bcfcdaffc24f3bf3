// Non-finite values never become a result: a NaN or infinite weight in any model format is
// an InputError naming the tensor and the index, and perplexity is never reported as NaN.
#include <gtest/gtest.h>

#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include "llvq/error.hpp"
#include "llvq/eval.hpp"
#include "llvq/llama.hpp"
#include "llvq/model.hpp"
#include "llvq/model_io.hpp"
#include "model_test_util.hpp"

namespace llvq {
namespace {

using test::TempDir;

void put_float(std::vector<uint8_t>& bytes, size_t offset, float v) { std::memcpy(bytes.data() + offset, &v, 4); }

void expect_load_error(const std::string& path, const std::string& what) {
  try {
    load_model(path);
    ADD_FAILURE() << path << " loaded";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

LlamaConfig tiny_config() {
  LlamaConfig c;
  c.dim = 48, c.hidden_dim = 80, c.n_layers = 2, c.n_heads = 4, c.n_kv_heads = 2, c.vocab_size = 37, c.seq_len = 64;
  return c;
}

TEST(NonFinite, Llama2cWeightIsRejectedWithTensorAndIndex) {
  TempDir dir("nan-l2c");
  auto bytes = test::read_bytes(test::stories_bin());
  put_float(bytes, 28 + 4 * 5, std::numeric_limits<float>::quiet_NaN());  // token embedding, index 5
  test::write_bytes(dir.file("nan.bin"), bytes);
  expect_load_error(dir.file("nan.bin"), "token_embd holds NaN at index 5");
  // stories260K: 7 header ints, the 512 × 64 embedding, then layer 0's attention norm.
  bytes = test::read_bytes(test::stories_bin());
  put_float(bytes, 28 + 4 * (512 * 64 + 2), std::numeric_limits<float>::infinity());
  test::write_bytes(dir.file("inf.bin"), bytes);
  expect_load_error(dir.file("inf.bin"), "blk.0.attn_norm holds an infinity at index 2");
}

// A version-0 header whose vocab_size is INT_MIN (its negation overflows) is named as such,
// not reported as "vocab_size = 0".
TEST(NonFinite, Llama2cVocabSizeIntMinIsNamed) {
  TempDir dir("vocab-min");
  auto bytes = test::read_bytes(test::stories_bin());
  const int32_t min = INT32_MIN;
  std::memcpy(bytes.data() + 20, &min, 4);
  test::write_bytes(dir.file("m.bin"), bytes);
  expect_load_error(dir.file("m.bin"), "vocab_size = -2147483648 is out of range");
}

TEST(NonFinite, GgufWeightIsRejected) {
  TempDir dir("nan-gguf");
  LlamaModel m = random_llama(tiny_config(), 3);
  auto w = std::dynamic_pointer_cast<DenseLinear>(m.layers[1].wk)->weight();
  w[17] = -std::numeric_limits<float>::infinity();
  m.layers[1].wk = std::make_shared<DenseLinear>(m.layers[1].wk->out_features(), m.layers[1].wk->in_features(), w);
  save_gguf(m, dir.file("m.gguf"));
  expect_load_error(dir.file("m.gguf"), "blk.1.attn_k holds an infinity at index 17");
}

TEST(NonFinite, SafetensorsWeightIsRejected) {
  TempDir dir("nan-st");
  ASSERT_NO_FATAL_FAILURE(test::make_safetensors_fixture(test::stories_bin(), dir.path(), "--dtype F32"));
  auto bytes = test::read_bytes(dir.file("model.safetensors"));
  put_float(bytes, bytes.size() - 4, std::numeric_limits<float>::quiet_NaN());  // the last tensor's last value
  test::write_bytes(dir.file("model.safetensors"), bytes);
  expect_load_error(dir.path(), "holds NaN at index");
}

// A model built in memory (no loader) with a NaN: the evaluation stops with an error naming
// the window instead of printing "perplexity nan".
TEST(NonFinite, PerplexityIsNeverReportedAsNaN) {
  LlamaModel m = random_llama(tiny_config(), 5);
  auto w = std::dynamic_pointer_cast<DenseLinear>(m.layers[0].w2)->weight();
  w[0] = std::numeric_limits<float>::quiet_NaN();
  m.layers[0].w2 = std::make_shared<DenseLinear>(m.layers[0].w2->out_features(), m.layers[0].w2->in_features(), w);
  EXPECT_THROW(require_finite_weights(m, "in-memory"), InputError);
  std::vector<int32_t> tokens(64);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<int32_t>(i % 37);
  PerplexityOptions o;
  o.ctx = 16;
  try {
    evaluate_perplexity(m, tokens, o);
    ADD_FAILURE() << "a NaN perplexity was reported";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("window 0"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace llvq
