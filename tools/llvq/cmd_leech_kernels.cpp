// Placeholder: the leech kernel commands land with their issue work.
#include "commands.hpp"

namespace llvq::cli {
void register_leech_kernel_commands(CLI::App&, CLI::App&) {}
}  // namespace llvq::cli
