#include <cstdio>
#include <exception>

#include "commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"llvq: Leech lattice vector quantization of LLM weights"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show the help of every subcommand");
  CLI::App* bench = app.add_subcommand("bench", "Throughput benchmarks (tables, or JSON with --json)");
  bench->require_subcommand(1);
  llvq::cli::register_lattice_commands(app, *bench);
  llvq::cli::register_codec_commands(app, *bench);
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
