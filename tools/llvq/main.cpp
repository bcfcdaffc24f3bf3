#include <omp.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>

#include "commands.hpp"

namespace llvq::cli {

CLI::Validator threads_validator() {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int limit = kMaxThreadsPerCore * cores;
  return CLI::Validator(
      [limit, cores](std::string& value) -> std::string {
        int n = 0;
        try {
          size_t used = 0;
          n = std::stoi(value, &used);
          if (used != value.size()) return "not an integer: " + value;
        } catch (const std::exception&) {
          return "not an integer: " + value;
        }
        if (n < 0) return "must be ≥ 0 (0: every core)";
        if (n > limit)
          return std::to_string(n) + " threads on " + std::to_string(cores) + " cores: at most " + std::to_string(limit);
        return {};
      },
      "[0, " + std::to_string(limit) + "]");
}

void use_threads(int n) {
  if (n > 0) omp_set_num_threads(n);
}

}  // namespace llvq::cli

namespace {

// libgomp reads its spin policy when it is loaded, before main: a worker that spins ~300,000
// iterations at every barrier takes a core from other processes and collapses on a busy
// machine (3.7 against 120 tokens/s measured on 2 shared cores). Unless the user chose a
// policy, re-run once with a short spin (GOMP_SPINCOUNT), which costs a few percent on an idle
// machine at most.
void set_default_wait_policy(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT")) return;
  ::setenv("GOMP_SPINCOUNT", "10000", 1);
  ::execv("/proc/self/exe", argv);  // returns only on failure: go on with the default policy
}

}  // namespace

int main(int argc, char** argv) {
  set_default_wait_policy(argv);
  CLI::App app{"llvq: Leech lattice vector quantization of LLM weights"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show the help of every subcommand");
  CLI::App* bench = app.add_subcommand("bench", "Throughput benchmarks (tables, or JSON with --json)");
  bench->require_subcommand(1);
  llvq::cli::register_lattice_commands(app, *bench);
  llvq::cli::register_codec_commands(app, *bench);
  llvq::cli::register_rd_commands(app, *bench);
  llvq::cli::register_model_commands(app, *bench);
  llvq::cli::register_eval_commands(app, *bench);
  llvq::cli::register_quant_commands(app, *bench);
  llvq::cli::register_kernel_commands(app, *bench);
  llvq::cli::register_leech_kernel_commands(app, *bench);
  llvq::cli::register_inference_commands(app, *bench);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "llvq: error: %s\n", e.what());
    return 2;
  }
  return 0;
}
