// The output policy (llvq/output_file.hpp): no input is ever replaced, no existing file
// without --force, no device or directory; a failed or interrupted write leaves no temporary
// file and the old output intact. Every command that writes a file: cli/test_output_policy_cli.cpp.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <string>

#include "llvq/error.hpp"
#include "llvq/output_file.hpp"
#include "scratch_dir_test.hpp"

namespace llvq {
namespace {
namespace fs = std::filesystem;

using OutputPolicyTest = test::ScratchDirTest;

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
  expect_refused(dir_.path(), {.force = true, .inputs = {}}, "directory");
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

}  // namespace
}  // namespace llvq
