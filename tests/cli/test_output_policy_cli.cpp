// Every command that writes a file follows the output policy (llvq/output_file.hpp): no input
// is ever replaced, no existing file without --force, no device or directory; the checks come
// before the long work. Inputs that are directories or devices get a clear error; absurd
// sizes are refused with messages that name the problem.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli.hpp"
#include "scratch_dir_test.hpp"
#include "test_data.hpp"

namespace llvq {
namespace {
namespace fs = std::filesystem;

const std::string kData = llvq::test::data_dir();
const std::string kModel = kData + "/models/stories260K/stories260K.bin";
const std::string kTokenizer = kData + "/models/stories260K/tok512.bin";

using OutputPolicyTest = test::ScratchDirTest;
using test::CommandResult;
using test::run_cli;

TEST_F(OutputPolicyTest, CommandsNeverReplaceTheirInputs) {
  fs::copy_file(kModel, path("m.bin"));
  fs::copy_file(kTokenizer, path("tok512.bin"));
  write("t.txt", "Once upon a time there was a little dog. It liked to play in the sun.\n");
  const auto model_size = fs::file_size(path("m.bin"));
  const std::string text = read("t.txt");
  const std::string eval = "eval --model " + path("m.bin") + " --text " + path("t.txt") + " --ctx 16";
  // Row 1: --kl-base naming the model or the text.
  for (const char* target : {"m.bin", "t.txt"}) {
    const CommandResult r = run_cli(eval + " --kl-base " + path(target) + " --force");
    EXPECT_EQ(r.status, 2) << r.out;
    EXPECT_NE(r.out.find("input"), std::string::npos) << r.out;
  }
  EXPECT_EQ(fs::file_size(path("m.bin")), model_size);
  EXPECT_EQ(read("t.txt"), text);
  // --kl-base over an existing file needs --force; a fresh one is written.
  write("kl.bin", "keep");
  EXPECT_EQ(run_cli(eval + " --kl-base " + path("kl.bin")).status, 2);
  EXPECT_EQ(read("kl.bin"), "keep");
  CommandResult r = run_cli(eval + " --kl-base " + path("kl2.bin"));
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_GT(fs::file_size(path("kl2.bin")), 8u);
  // Row 2: compare's markdown naming the model, refused before anything runs.
  r = run_cli("compare --model " + path("m.bin") + " --codecs e8p --rounding rtn --calib " + path("t.txt") +
              " --markdown " + path("m.bin") + " --force");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_EQ(fs::file_size(path("m.bin")), model_size);
  // Row 3: codec encode / decode over their input or an existing output.
  std::ofstream(path("w.raw"), std::ios::binary).write(std::string(24 * 4 * 8, '\0').data(), 24 * 4 * 8);
  EXPECT_EQ(run_cli("codec encode --codec e8p " + path("w.raw") + " " + path("w.raw") + " --force").status, 2);
  EXPECT_EQ(fs::file_size(path("w.raw")), 24u * 4 * 8);
  ASSERT_EQ(run_cli("codec encode --codec e8p " + path("w.raw") + " " + path("c.llvq")).status, 0);
  EXPECT_EQ(run_cli("codec encode --codec e8p " + path("w.raw") + " " + path("c.llvq")).status, 2);  // exists
  EXPECT_EQ(run_cli("codec encode --codec e8p " + path("w.raw") + " " + path("c.llvq") + " --force").status, 0);
  const auto container = fs::file_size(path("c.llvq"));
  EXPECT_EQ(run_cli("codec decode " + path("c.llvq") + " " + path("c.llvq") + " --force").status, 2);
  EXPECT_EQ(fs::file_size(path("c.llvq")), container);
  EXPECT_EQ(run_cli("codec decode " + path("c.llvq") + " " + path("d.raw")).status, 0);
  EXPECT_EQ(fs::file_size(path("d.raw")), 24u * 4 * 8);
}

TEST_F(OutputPolicyTest, DevicesDirectoriesAndMissingDirectoriesFailFast) {
  // Row 4: a device is never replaced by a regular file.
  CommandResult r = run_cli("quantize --model " + kModel + " --out /dev/null --force --codec e8p --rounding rtn");
  EXPECT_EQ(r.status, 2) << r.out;
  struct stat st {};
  ASSERT_EQ(::stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  // Row 9: a missing directory or an empty name fails before any tensor is quantized.
  r = run_cli("quantize --model " + kModel + " --out " + path("nodir/q.gguf") + " --codec e8p --rounding rtn");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("does not exist"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("tensor"), std::string::npos) << r.out;
  r = run_cli("quantize --model " + kModel + " --out \"\" --codec e8p");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("empty"), std::string::npos) << r.out;
  r = run_cli("convert " + kModel + " " + path("nodir/x.gguf"));
  EXPECT_EQ(r.status, 2) << r.out;
  // Rows 6 and 7: directories and devices where a file is read.
  fs::create_directories(path("adir"));
  r = run_cli("codec decode " + path("adir") + " " + path("o.raw"));
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("directory"), std::string::npos) << r.out;
  r = run_cli("eval --model " + kModel + " --text " + path("adir"));
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("directory"), std::string::npos) << r.out;
  r = run_cli("eval --model " + kModel + " --text /dev/zero");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("regular file"), std::string::npos) << r.out;
  r = run_cli("quantize --model " + kModel + " --out " + path("q.gguf") + " --codec e8p --calib " + path("adir"));
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("directory"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(path("q.gguf")));
}

// Row 12: absurd sizes and thread counts are refused at once (exit code 2, the option named).
TEST(CliLimits, AbsurdSizesAndThreadCountsAreRefused) {
  for (const std::string args : {"rd --codec e8p --blocks 100 --row 100000000", "rd --codec e8p --row 0",
                                 "rd --codec e8p --blocks 0", "quantize --model m --out o --threads 100000",
                                 "eval --model m --text t --threads -1", "run --model m --prompt p --threads 100000",
                                 "bench gemv --threads 100000"}) {
    const CommandResult r = run_cli(args);
    EXPECT_EQ(r.status, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find(args.find("threads") != std::string::npos ? "--threads" : "--"), std::string::npos) << r.out;
  }
}

// Row 15: the messages name the problem (no 300-digit numbers, no error glued to output).
TEST(CliLimits, MessagesNameTheProblem) {
  CommandResult r = run_cli("run --model " + kModel + " --prompt HelloPrompt -n -1");
  EXPECT_EQ(r.status, 2);
  EXPECT_LT(r.out.size(), 200u) << r.out;
  r = run_cli("run --model " + kModel + " --prompt HelloPrompt --temp nan");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out.rfind("llvq: error: --temp", 0), 0u) << r.out;
  EXPECT_EQ(r.out.find("HelloPrompt"), std::string::npos) << r.out;
  r = run_cli("rd --codec scalar:bpw=2,group=999999999999 --blocks 10");
  EXPECT_NE(r.out.find("outside"), std::string::npos) << r.out;
  r = run_cli("rd --codec e8p --blocks 10 --source model:" + kModel + ":nope");
  EXPECT_NE(r.out.find("no linear layer named nope"), std::string::npos) << r.out;
  r = run_cli("quantize --help");
  EXPECT_NE(r.out.find("=gptq"), std::string::npos) << r.out;
  r = run_cli("codec list --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto catalog = nlohmann::json::parse(r.out);
  EXPECT_GT(catalog.size(), 5u);
}

}  // namespace
}  // namespace llvq
