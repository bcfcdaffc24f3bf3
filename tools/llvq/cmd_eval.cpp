#include "commands.hpp"

namespace llvq::cli {

void register_eval_commands(CLI::App& /*app*/, CLI::App& /*bench*/) {}

}  // namespace llvq::cli
