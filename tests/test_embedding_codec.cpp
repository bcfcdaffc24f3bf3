// The token embedding compressed with a codec (`quantize --embedding-codec`): stored as codes
// in GGUF, decoded on load, the tied classifier running from the same codes, and `convert`
// making it dense again (cli/test_embedding_codec_cli.cpp). A small random Llama, so no data
// is needed.
#include <gtest/gtest.h>

#include "llvq/llama.hpp"
#include "llvq/model_io.hpp"
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

}  // namespace
}  // namespace llvq
