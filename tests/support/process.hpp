// The tests' one way to run a command line (the llvq CLI, the Python reference scripts,
// coreutils): optional environment assignments and stdin text in, exit status and output back.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "files.hpp"

namespace llvq::test {

// Where the command's stderr goes: into `out`, interleaved as a terminal would show it (for
// messages checked wherever they are printed), or into `err` (stdout stays parseable).
enum class Stderr { Merge, Separate };

struct CommandOptions {
  std::vector<std::string> env = {};                 // NAME=value assignments for the command only
  std::optional<std::string> input = std::nullopt;  // stdin text; none: the test's own stdin
  Stderr stderr_to = Stderr::Merge;
};

struct CommandResult {
  int status = -1;  // exit status; -1 when the command did not exit normally
  std::string out, err;
};

// Single quotes for sh: the text reaches the command as one word, unchanged.
inline std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs `command_line` with sh. Output goes through files rather than a pipe so that stdout
// and stderr can be kept apart without risking a deadlock on full pipes.
inline CommandResult run_command(const std::string& command_line, const CommandOptions& options = {}) {
  const TempDir dir("command");
  std::string script = "(";
  for (const std::string& assignment : options.env) script += "export " + shell_quote(assignment) + "; ";
  script += command_line + ")";
  if (options.input) {
    write_text(dir.file("in"), *options.input);
    script += " < " + shell_quote(dir.file("in"));
  }
  script += " > " + shell_quote(dir.file("out"));
  script += options.stderr_to == Stderr::Merge ? " 2>&1" : " 2> " + shell_quote(dir.file("err"));
  const int status = std::system(script.c_str());
  CommandResult r;
  r.status = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_text(dir.file("out"));
  r.err = read_text(dir.file("err"));
  return r;
}

}  // namespace llvq::test
