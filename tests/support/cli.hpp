// Running the llvq command-line tool: for the tests under tests/cli only, the binaries that
// tests/CMakeLists.txt builds after the CLI and tells its path (LLVQ_CLI_PATH).
#pragma once

#include <string>

#include "process.hpp"

namespace llvq::test {

// `llvq ARGS`; ARGS is shell text (callers quote paths that need it).
inline CommandResult run_cli(const std::string& args, const CommandOptions& options = {}) {
  return run_command(shell_quote(LLVQ_CLI_PATH) + " " + args, options);
}

}  // namespace llvq::test
