// `llvq convert` and `llvq inspect`: the GGUF written from stories260K gives the llama2.c
// logits bit for bit and carries the tokenizer, errors exit with status 2, and llama.cpp's own
// reader accepts the files (tests/test_gguf.cpp: the GGUF library).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "llvq/gguf.hpp"
#include "llvq/llama.hpp"
#include "llvq/model_io.hpp"
#include "llvq/tokenizer.hpp"
#include "model_test_util.hpp"

namespace {
using namespace llvq;
using namespace llvq::gguf;
using namespace llvq::test;

// The acceptance test of `llvq convert`: the GGUF it writes from stories260K gives the
// same logits as the llama2.c original, bit for bit, and carries the tokenizer.
TEST(Convert, GgufFromStoriesGivesIdenticalLogits) {
  TempDir dir("convert");
  const std::string out = dir.file("s.gguf");
  const CommandResult r = run_cli("convert '" + stories_bin() + "' '" + out + "' --tokenizer '" + stories_tok() + "'");
  ASSERT_EQ(r.status, 0) << r.out;
  const LlamaModel original = load_model(stories_bin());
  const LlamaModel converted = load_model(out);
  expect_models_equal(original, converted);

  const TokenizerData tok = load_llama2c_tokenizer(stories_tok());
  ASSERT_TRUE(converted.tokenizer.has_value());
  EXPECT_EQ(converted.tokenizer->tokens, tok.tokens);
  EXPECT_EQ(converted.tokenizer->scores, tok.scores);
  EXPECT_EQ(converted.tokenizer->token_types, tok.token_types);
  EXPECT_EQ(converted.tokenizer->bos_id, tok.bos_id);
  EXPECT_EQ(converted.tokenizer->eos_id, tok.eos_id);
  const Tokenizer t_orig(tok), t_conv(*converted.tokenizer);
  const std::string text = "Once upon a time, there was a little girl named Lily. She loved to play outside.";
  const std::vector<int32_t> ids = t_orig.encode(text, true, false);
  EXPECT_EQ(t_conv.encode(text, true, false), ids);

  LlamaRunner a(original), b(converted);
  const std::vector<float> la = a.forward_window(ids), lb = b.forward_window(ids);
  ASSERT_EQ(la.size(), ids.size() * 512);
  EXPECT_TRUE(bits_equal(la, lb));
}

TEST(Convert, CliErrorsAndInspect) {
  TempDir dir("convert");
  const std::string out = dir.file("s.gguf");
  CommandResult r = run_cli("convert '" + stories_bin() + "' '" + out + "' --type f16 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const nlohmann::json summary = nlohmann::json::parse(r.out);
  EXPECT_EQ(summary["parameters"], 260032);
  EXPECT_EQ(summary["type"], "f16");
  EXPECT_EQ(summary["output_bytes"], std::filesystem::file_size(out));
  EXPECT_EQ(File::read(out).tensor("blk.1.ffn_up.weight").type, TensorType::F16);

  // Existing output without --force, the input as output, a wrong extension, a bad input.
  r = run_cli("convert '" + stories_bin() + "' '" + out + "'");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("exists"), std::string::npos) << r.out;
  r = run_cli("convert '" + out + "' '" + out + "' --force");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("read from"), std::string::npos) << r.out;
  r = run_cli("convert '" + stories_bin() + "' '" + dir.file("x.bin") + "'");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find(".gguf"), std::string::npos) << r.out;
  write_bytes(dir.file("junk.gguf"), {'G', 'G', 'U', 'F', 3, 0, 0, 0, 1});
  r = run_cli("convert '" + dir.file("junk.gguf") + "' '" + dir.file("y.gguf") + "'");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("llvq: error: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("junk.gguf"), std::string::npos) << r.out;
  r = run_cli("convert '" + stories_bin() + "' '" + dir.file("z.gguf") + "' --tokenizer '" + stories_bin() + "'");
  EXPECT_EQ(r.status, 2);
  EXPECT_FALSE(std::filesystem::exists(dir.file("z.gguf")));

  r = run_cli("inspect '" + out + "' --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const nlohmann::json info = nlohmann::json::parse(r.out);
  EXPECT_EQ(info["version"], 3);
  EXPECT_EQ(info["tensors"].size(), 47u);
  EXPECT_EQ(info["tensors"][0]["name"], "token_embd.weight");
  EXPECT_EQ(info["tensors"][0]["ne"], nlohmann::json::array({64, 512}));
  r = run_cli("inspect '" + stories_bin() + "' --json");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["config"]["hidden_dim"], 172);
  r = run_cli("inspect '" + stories_bin() + "'");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("hidden_dim"), std::string::npos) << r.out;
  r = run_cli("inspect '" + out + "'");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("blk.4.ffn_up.weight"), std::string::npos) << r.out;
}

// Cross-check with llama.cpp's own GGUF reader (the `gguf` Python package) when it is
// installed for LLVQ_PYTHON, or for the interpreter named by $LLVQ_GGUF_PYTHON.
TEST(Convert, ReadableByLlamaCppGgufPackage) {
  const std::string python = gguf_python();
  if (!has_gguf_package(python)) GTEST_SKIP() << "the gguf package is not installed for " << python;
  TempDir dir("convert");
  for (const char* type : {"f32", "f16"}) {
    const std::string out = dir.file(std::string(type) + ".gguf");
    CommandResult r = run_cli("convert '" + stories_bin() + "' '" + out + "' --type " + type);
    ASSERT_EQ(r.status, 0) << r.out;
    r = run_command(python + " " + LLVQ_TESTS_DIR + "/gguf_crosscheck.py '" + stories_bin() + "' '" + out + "'");
    ASSERT_EQ(r.status, 0) << r.out;
  }
}

}  // namespace
