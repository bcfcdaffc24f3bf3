// `llvq eval`, `llvq run` and `llvq bench forward`: documented JSON keys, errors with exit
// status 2, the tokenizer inside a GGUF file, deterministic generation (tests/test_eval.cpp:
// the library side).
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "eval_test_util.hpp"
#include "llvq/model_io.hpp"
#include "llvq/tokenizer.hpp"

namespace llvq {
namespace {

using evaltest::data_path;
using test::CommandResult;
using test::run_cli;

// JSON parsed from stdout alone, whatever the command logs on stderr.
const test::CommandOptions kStdoutOnly{.stderr_to = test::Stderr::Separate};

TEST(Cli, EvalPrintsJsonWithTheDocumentedKeys) {
  const CommandResult r = run_cli("eval --model " + evaltest::stories_model() + " --text " +
                                  data_path("text/tinystories_val.txt") + " --ctx 256 --max-tokens 2000 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"ppl", "ppl_stderr", "nll", "tokens", "windows", "protocol", "ctx"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["windows"], 7);
  EXPECT_EQ(j["tokens"], 7 * 255);
  EXPECT_EQ(j["protocol"], "windows");
  EXPECT_NEAR(j["ppl"].get<double>(), std::exp(j["nll"].get<double>()), 1e-9);
}

TEST(Cli, EvalRejectsBadInput) {
  const std::string model = " --model " + evaltest::stories_model();
  CommandResult r = run_cli("eval" + model + " --text /nonexistent/text.txt");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("llvq: error: cannot open text file"), std::string::npos) << r.out;
  r = run_cli("eval" + model + " --text " + data_path("text/wiki.test.raw") + " --protocol sliding");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("protocol"), std::string::npos) << r.out;
  r = run_cli("eval" + model + " --tokenizer " + evaltest::llama2_tokenizer() + " --text " +
              data_path("text/wiki.test.raw"));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("32000 tokens"), std::string::npos) << r.out;
  r = run_cli("eval --model " + evaltest::stories_tokenizer() + " --text " + data_path("text/wiki.test.raw"));
  EXPECT_EQ(r.status, 2);
  // A model file without a tokenizer, alone in its directory.
  test::TempDir dir("notok");
  save_gguf(load_model(evaltest::stories_model()), dir.file("bare.gguf"));
  r = run_cli("eval --model " + dir.file("bare.gguf") + " --text " + data_path("text/wiki.test.raw"));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("no tokenizer"), std::string::npos) << r.out;
}

TEST(Cli, EvalUsesTheTokenizerInsideAGgufFile) {
  // stories260K with tok512 embedded, as `llvq convert --tokenizer` writes it: no
  // --tokenizer needed, and the same perplexity as the llama2.c checkpoint.
  test::TempDir dir("gguf");
  LlamaModel model = load_model(evaltest::stories_model());
  model.tokenizer = load_llama2c_tokenizer(evaltest::stories_tokenizer());
  save_gguf(model, dir.file("stories.gguf"));
  const std::string common = " --text " + data_path("text/tinystories_val.txt") + " --ctx 128 --max-tokens 1000 --json";
  const CommandResult a = run_cli("eval --model " + dir.file("stories.gguf") + common, kStdoutOnly);
  ASSERT_EQ(a.status, 0) << a.out;
  const CommandResult b = run_cli("eval --model " + evaltest::stories_model() + common, kStdoutOnly);
  ASSERT_EQ(b.status, 0) << b.out;
  EXPECT_EQ(nlohmann::json::parse(a.out)["nll"], nlohmann::json::parse(b.out)["nll"]);
}

TEST(Cli, RunGeneratesDeterministically) {
  const std::string args = "run --model " + evaltest::stories_model() + " --prompt 'Once upon a time' -n 30 --seed 5 --json";
  const CommandResult a = run_cli(args, kStdoutOnly);
  ASSERT_EQ(a.status, 0) << a.out;
  const auto j = nlohmann::json::parse(a.out);
  EXPECT_GT(j["generated_tokens"].get<int>(), 0);
  EXPECT_LE(j["generated_tokens"].get<int>(), 30);
  EXPECT_GT(j["tokens_per_second"].get<double>(), 0.0);
  EXPECT_FALSE(j["text"].get<std::string>().empty());
  const auto k = nlohmann::json::parse(run_cli(args, kStdoutOnly).out);
  EXPECT_EQ(j["text"], k["text"]);
}

TEST(Cli, BenchForwardReportsGflops) {
  const CommandResult r = run_cli("bench forward --dim 128 --layers 1 --vocab 100 --ctx 64 --reps 1 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["hidden"], 512);  // 8/3 · 128 rounded up to 256
  EXPECT_EQ(j["heads"], 2);
  EXPECT_GT(j["forward_gflop_per_s"].get<double>(), 0.0);
  EXPECT_GT(j["fraction_of_gemm"].get<double>(), 0.0);
  EXPECT_EQ(run_cli("bench forward --dim 100 --heads 3 --reps 1").status, 2);
}

}  // namespace
}  // namespace llvq
