// Per-tensor recipes on SmolLM2-135M-Instruct through `llvq quantize`: only the matching
// tensors are quantized, every other one keeps its source type and bytes.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "llvq/gguf.hpp"
#include "llvq/model_io.hpp"
#include "llvq/quantized_model.hpp"
#include "model_test_util.hpp"
#include "test_data.hpp"

namespace llvq {
namespace {
namespace fs = std::filesystem;

TEST(Smollm2, RecipeQuantizesOnlyMatchingTensorsAndKeepsSourceTypes) {
  test::TempDir dir("smollm2_recipe");
  const std::string out = dir.path() + "/recipe.gguf";
  // The first matching rule wins: blk.0.ffn_down gets llvq-sg although 'blk.0.*=keep' matches it
  // too, blk.1.attn_v gets e8p, and every other layer stays dense in its source type.
  const auto r = test::run_cli("quantize --model " + test::smollm2_model() + " --out " + out +
                               " --codec keep --rule blk.0.ffn_down=llvq-sg --rule 'blk.1.attn_v=e8p' "
                               "--rule 'blk.0.*=keep' --rounding rtn --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
  EXPECT_EQ(j["kept"].size(), 208u);
  EXPECT_EQ(j["tensors"].size(), 2u);
  EXPECT_EQ(j["dense_type"], "source");
  EXPECT_LT(fs::file_size(out), fs::file_size(test::smollm2_model()));

  const LlamaModel reference = load_model(test::smollm2_model());
  const gguf::File src = gguf::File::read(test::smollm2_model());
  const gguf::File dst = gguf::File::read(out);
  EXPECT_EQ(dst.get("llvq.t.blk.0.ffn_down.weight.codec").as_string("codec").rfind("llvq-sg", 0), 0u);
  EXPECT_EQ(dst.get("llvq.t.blk.1.attn_v.weight.codec").as_string("codec").rfind("e8p", 0), 0u);
  EXPECT_EQ(dst.find_tensor("blk.0.ffn_down.weight"), nullptr);
  for (const std::string name : {"token_embd.weight", "blk.0.attn_q.weight", "blk.1.attn_k.weight", "blk.29.ffn_up.weight"}) {
    EXPECT_EQ(dst.tensor(name).type, src.tensor(name).type) << name;
    EXPECT_EQ(test::gguf_tensor_bytes(dst, name), test::gguf_tensor_bytes(src, name)) << name;
  }
  EXPECT_EQ(dst.get("tokenizer.ggml.pre").as_string("pre"), "smollm");
  EXPECT_EQ(dst.get("tokenizer.chat_template").as_string("tmpl"), reference.tokenizer->chat_template);

  const LlamaModel q = load_model(out);
  EXPECT_NE(dynamic_cast<const QuantizedLinear*>(q.layers[0].w2.get()), nullptr);
  EXPECT_NE(dynamic_cast<const QuantizedLinear*>(q.layers[1].wv.get()), nullptr);
  EXPECT_EQ(dynamic_cast<const QuantizedLinear*>(q.layers[1].w2.get()), nullptr);
  EXPECT_TRUE(test::bits_equal(q.tok_embeddings, reference.tok_embeddings));

  const auto bad = test::run_cli("quantize --model " + test::smollm2_model() + " --out " + out +
                                 "2 --rule ffn_down --rounding rtn");
  EXPECT_EQ(bad.status, 2) << bad.out;
  EXPECT_NE(bad.out.find("PATTERN=CODEC"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace llvq
