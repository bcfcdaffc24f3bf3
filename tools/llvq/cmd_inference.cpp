// Placeholder: the inference commands land with their issue work.
#include "commands.hpp"

namespace llvq::cli {
void register_inference_commands(CLI::App&, CLI::App&) {}
}  // namespace llvq::cli
