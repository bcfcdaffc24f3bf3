// Each area of the CLI registers its subcommands here. `bench` is shared: every area adds
// its own `llvq bench <what>` subcommand to it.
#pragma once

#include <CLI/CLI.hpp>

namespace llvq::cli {

void register_lattice_commands(CLI::App& app, CLI::App& bench);  // lattice ..., bench lattice
void register_codec_commands(CLI::App& app, CLI::App& bench);    // codec ..., bench codec
void register_rd_commands(CLI::App& app, CLI::App& bench);       // rd
void register_model_commands(CLI::App& app, CLI::App& bench);    // convert (model files)
void register_eval_commands(CLI::App& app, CLI::App& bench);     // eval, run, bench forward
void register_quant_commands(CLI::App& app, CLI::App& bench);    // quantize, compare
void register_kernel_commands(CLI::App& app, CLI::App& bench);   // bench gemv
void register_leech_kernel_commands(CLI::App& app, CLI::App& bench);  // bench leech-decode
void register_inference_commands(CLI::App& app, CLI::App& bench);     // bench run

// The CLI's --threads options: 0 = every core; more than kMaxThreadsPerCore per core is an
// error (oversubscription only slows the OpenMP loops down).
inline constexpr int kMaxThreadsPerCore = 4;
CLI::Validator threads_validator();
// omp_set_num_threads for n > 0.
void use_threads(int n);

}  // namespace llvq::cli
