// `llvq convert` of a model whose token embedding is stored as codes makes it dense again,
// with the same weights (tests/test_embedding_codec.cpp covers the library side).
#include <gtest/gtest.h>

#include "cli.hpp"
#include "llvq/model_io.hpp"
#include "model_test_util.hpp"

namespace llvq {
namespace {

TEST(EmbeddingCodec, ConvertDecompressesTheEmbedding) {
  LlamaModel m = test::small_random_llama();
  test::quantize_embedding_only(m, "e8p");
  test::TempDir dir("embedding_codec");
  const std::string path = dir.path() + "/emb.gguf";
  save_gguf(m, path);

  const auto conv = test::run_cli("convert " + path + " " + dir.path() + "/dense.gguf --json");
  ASSERT_EQ(conv.status, 0) << conv.out;
  EXPECT_NE(conv.out.find("\"decompressed_layers\": 1"), std::string::npos) << conv.out;
  const LlamaModel dense = load_model(dir.path() + "/dense.gguf");
  EXPECT_EQ(dense.compressed_embedding, nullptr);
  EXPECT_TRUE(test::bits_equal(dense.tok_embeddings, m.tok_embeddings));
}

}  // namespace
}  // namespace llvq
