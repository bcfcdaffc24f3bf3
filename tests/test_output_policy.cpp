// The output policy (llvq/output_file.hpp) and every command that writes a file: no input is
// ever replaced, no existing file without --force, no device or directory; the checks come
// before the long work; a failed or interrupted write leaves no temporary file and the old
// output intact. Inputs that are directories or devices get a clear error.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_data.hpp"
#include "llvq/error.hpp"
#include "llvq/output_file.hpp"
#include "model_test_util.hpp"

namespace llvq {
namespace {
namespace fs = std::filesystem;

const std::string kData = llvq::test::data_dir();
const std::string kModel = kData + "/models/stories260K/stories260K.bin";
const std::string kTokenizer = kData + "/models/stories260K/tok512.bin";

using test::CliRun;
const auto run = test::run_cli;

class OutputPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("llvq-out-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  void write(const std::string& name, const std::string& text) const { std::ofstream(path(name)) << text; }
  std::string read(const std::string& name) const {
    std::ifstream in(path(name));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // The directory holds exactly these names (no temporary file left behind).
  void expect_only(std::vector<std::string> names) const {
    std::vector<std::string> have;
    for (const auto& e : fs::directory_iterator(dir_)) have.push_back(e.path().filename().string());
    std::sort(have.begin(), have.end());
    std::sort(names.begin(), names.end());
    EXPECT_EQ(have, names);
  }

  fs::path dir_;
};

void expect_refused(const std::string& path, const OutputPolicy& policy, const std::string& why) {
  try {
    check_output(path, policy);
    ADD_FAILURE() << path << ": accepted, expected '" << why << "'";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
  }
}

TEST_F(OutputPolicyTest, CheckRefusesEveryUnsafeTarget) {
  write("in.txt", "input");
  write("old.txt", "old");
  fs::create_symlink(path("in.txt"), path("link.txt"));
  expect_refused("", {}, "empty");
  expect_refused(path("in.txt"), {.force = true, .inputs = {path("in.txt")}}, "input");
  expect_refused(path("link.txt"), {.force = true, .inputs = {path("in.txt")}}, "input");  // through a link
  expect_refused(path("old.txt"), {}, "--force");
  expect_refused(dir_.string(), {.force = true, .inputs = {}}, "directory");
  expect_refused("/dev/null", {.force = true, .inputs = {}}, "regular file");
  expect_refused(path("nodir/x.gguf"), {}, "does not exist");
  EXPECT_NO_THROW(check_output(path("old.txt"), {.force = true, .inputs = {path("in.txt")}}));
  EXPECT_NO_THROW(check_output(path("new.txt"), {}));
  EXPECT_NO_THROW(check_output("relative-name-in-cwd.txt", {}));
}

TEST_F(OutputPolicyTest, WriteIsAtomicAndCleansUpOnErrors) {
  write("out.txt", "old");
  write_output(path("out.txt"), {.force = true, .inputs = {}}, [](std::ostream& o) { o << "new"; });
  EXPECT_EQ(read("out.txt"), "new");
  EXPECT_THROW(write_output(path("out.txt"), {.force = true, .inputs = {}},
                            [](std::ostream& o) {
                              o << "partial";
                              throw InputError("failure midway");
                            }),
               InputError);
  EXPECT_EQ(read("out.txt"), "new");
  expect_only({"out.txt"});
  EXPECT_THROW(write_output(path("out.txt"), {}, [](std::ostream& o) { o << "x"; }), InputError);  // no --force
  EXPECT_EQ(read("out.txt"), "new");
}

// A save killed by SIGINT midway (in a child process): the signal still ends the process,
// the temporary file is gone and the previous output is intact.
TEST_F(OutputPolicyTest, InterruptedSaveLeavesNoTemporaryFile) {
  write("out.bin", "previous");
  const std::string target = path("out.bin");
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    write_output(target, {.force = true, .inputs = {}}, [](std::ostream& o) {
      o << std::string(1 << 20, 'x');
      o.flush();
      std::raise(SIGINT);
      o << "never";
    });
    _exit(0);  // not reached
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGINT);
  EXPECT_EQ(read("out.bin"), "previous");
  expect_only({"out.bin"});
}

TEST_F(OutputPolicyTest, CommandsNeverReplaceTheirInputs) {
  fs::copy_file(kModel, path("m.bin"));
  fs::copy_file(kTokenizer, path("tok512.bin"));
  write("t.txt", "Once upon a time there was a little dog. It liked to play in the sun.\n");
  const auto model_size = fs::file_size(path("m.bin"));
  const std::string text = read("t.txt");
  const std::string eval = "eval --model " + path("m.bin") + " --text " + path("t.txt") + " --ctx 16";
  // Row 1: --kl-base naming the model or the text.
  for (const char* target : {"m.bin", "t.txt"}) {
    const CliRun r = run(eval + " --kl-base " + path(target) + " --force");
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find("input"), std::string::npos) << r.out;
  }
  EXPECT_EQ(fs::file_size(path("m.bin")), model_size);
  EXPECT_EQ(read("t.txt"), text);
  // --kl-base over an existing file needs --force; a fresh one is written.
  write("kl.bin", "keep");
  EXPECT_EQ(run(eval + " --kl-base " + path("kl.bin")).code, 2);
  EXPECT_EQ(read("kl.bin"), "keep");
  CliRun r = run(eval + " --kl-base " + path("kl2.bin"));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_GT(fs::file_size(path("kl2.bin")), 8u);
  // Row 2: compare's markdown naming the model, refused before anything runs.
  r = run("compare --model " + path("m.bin") + " --codecs e8p --rounding rtn --calib " + path("t.txt") +
          " --markdown " + path("m.bin") + " --force");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_EQ(fs::file_size(path("m.bin")), model_size);
  // Row 3: codec encode / decode over their input or an existing output.
  std::ofstream(path("w.raw"), std::ios::binary).write(std::string(24 * 4 * 8, '\0').data(), 24 * 4 * 8);
  EXPECT_EQ(run("codec encode --codec e8p " + path("w.raw") + " " + path("w.raw") + " --force").code, 2);
  EXPECT_EQ(fs::file_size(path("w.raw")), 24u * 4 * 8);
  ASSERT_EQ(run("codec encode --codec e8p " + path("w.raw") + " " + path("c.llvq")).code, 0);
  EXPECT_EQ(run("codec encode --codec e8p " + path("w.raw") + " " + path("c.llvq")).code, 2);  // exists
  EXPECT_EQ(run("codec encode --codec e8p " + path("w.raw") + " " + path("c.llvq") + " --force").code, 0);
  const auto container = fs::file_size(path("c.llvq"));
  EXPECT_EQ(run("codec decode " + path("c.llvq") + " " + path("c.llvq") + " --force").code, 2);
  EXPECT_EQ(fs::file_size(path("c.llvq")), container);
  EXPECT_EQ(run("codec decode " + path("c.llvq") + " " + path("d.raw")).code, 0);
  EXPECT_EQ(fs::file_size(path("d.raw")), 24u * 4 * 8);
}

TEST_F(OutputPolicyTest, DevicesDirectoriesAndMissingDirectoriesFailFast) {
  // Row 4: a device is never replaced by a regular file.
  CliRun r = run("quantize --model " + kModel + " --out /dev/null --force --codec e8p --rounding rtn");
  EXPECT_EQ(r.code, 2) << r.out;
  struct stat st {};
  ASSERT_EQ(::stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  // Row 9: a missing directory or an empty name fails before any tensor is quantized.
  r = run("quantize --model " + kModel + " --out " + path("nodir/q.gguf") + " --codec e8p --rounding rtn");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("does not exist"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("tensor"), std::string::npos) << r.out;
  r = run("quantize --model " + kModel + " --out \"\" --codec e8p");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("empty"), std::string::npos) << r.out;
  r = run("convert " + kModel + " " + path("nodir/x.gguf"));
  EXPECT_EQ(r.code, 2) << r.out;
  // Rows 6 and 7: directories and devices where a file is read.
  fs::create_directories(path("adir"));
  r = run("codec decode " + path("adir") + " " + path("o.raw"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("directory"), std::string::npos) << r.out;
  r = run("eval --model " + kModel + " --text " + path("adir"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("directory"), std::string::npos) << r.out;
  r = run("eval --model " + kModel + " --text /dev/zero");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("regular file"), std::string::npos) << r.out;
  r = run("quantize --model " + kModel + " --out " + path("q.gguf") + " --codec e8p --calib " + path("adir"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("directory"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(path("q.gguf")));
}

// Row 12: absurd sizes and thread counts are refused at once (exit code 2, the option named).
TEST(CliLimits, AbsurdSizesAndThreadCountsAreRefused) {
  for (const std::string args : {"rd --codec e8p --blocks 100 --row 100000000", "rd --codec e8p --row 0",
                                 "rd --codec e8p --blocks 0", "quantize --model m --out o --threads 100000",
                                 "eval --model m --text t --threads -1", "run --model m --prompt p --threads 100000",
                                 "bench gemv --threads 100000"}) {
    const CliRun r = run(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find(args.find("threads") != std::string::npos ? "--threads" : "--"), std::string::npos) << r.out;
  }
}

// Row 15: the messages name the problem (no 300-digit numbers, no error glued to output).
TEST(CliLimits, MessagesNameTheProblem) {
  CliRun r = run("run --model " + kModel + " --prompt HelloPrompt -n -1");
  EXPECT_EQ(r.code, 2);
  EXPECT_LT(r.out.size(), 200u) << r.out;
  r = run("run --model " + kModel + " --prompt HelloPrompt --temp nan");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out.rfind("llvq: error: --temp", 0), 0u) << r.out;
  EXPECT_EQ(r.out.find("HelloPrompt"), std::string::npos) << r.out;
  r = run("rd --codec scalar:bpw=2,group=999999999999 --blocks 10");
  EXPECT_NE(r.out.find("outside"), std::string::npos) << r.out;
  r = run("rd --codec e8p --blocks 10 --source model:" + kModel + ":nope");
  EXPECT_NE(r.out.find("no linear layer named nope"), std::string::npos) << r.out;
  r = run("quantize --help");
  EXPECT_NE(r.out.find("=gptq"), std::string::npos) << r.out;
  r = run("codec list --json");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto catalog = nlohmann::json::parse(r.out);
  EXPECT_GT(catalog.size(), 5u);
}

}  // namespace
}  // namespace llvq
