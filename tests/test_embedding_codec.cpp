// The token embedding compressed with a codec (`quantize --embedding-codec`): stored as codes
// in GGUF, decoded on load, the tied classifier running from the same codes, and `convert`
// making it dense again. A small random Llama, so no data is needed.
#include <gtest/gtest.h>

#include "llvq/llama.hpp"
#include "llvq/model_io.hpp"
#include "llvq/quantized_model.hpp"
#include "model_test_util.hpp"

namespace llvq {
namespace {

LlamaModel small_llama() {
  LlamaConfig c;
  c.dim = 48;
  c.hidden_dim = 96;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.vocab_size = 72;
  c.seq_len = 32;
  return random_llama(c, 11);
}

TEST(EmbeddingCodec, StoredAsCodesAndTheTiedClassifierUsesThem) {
  LlamaModel m = small_llama();
  const std::vector<float> original = m.tok_embeddings;
  ModelQuantOptions o;
  o.tensor.codec = kKeepCodec;
  o.embedding_codec = "e8p";
  o.progress = false;
  const ModelQuantReport r = quantize_model(m, {}, o);
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

  const auto conv = test::run_cli("convert " + path + " " + dir.path() + "/dense.gguf --json");
  ASSERT_EQ(conv.code, 0) << conv.out;
  EXPECT_NE(conv.out.find("\"decompressed_layers\": 1"), std::string::npos) << conv.out;
  const LlamaModel dense = load_model(dir.path() + "/dense.gguf");
  EXPECT_EQ(dense.compressed_embedding, nullptr);
  EXPECT_TRUE(test::bits_equal(dense.tok_embeddings, m.tok_embeddings));
}

}  // namespace
}  // namespace llvq
