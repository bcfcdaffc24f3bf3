#include "commands.hpp"

namespace llvq::cli {

void register_lattice_commands(CLI::App& /*app*/, CLI::App& /*bench*/) {}

}  // namespace llvq::cli
