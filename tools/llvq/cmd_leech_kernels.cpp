// llvq bench leech-decode: per-stage profile of the Leech block decode (minimal 48-bit index
// vs the split word of the kernel layout), decode throughput of both paths, and the packed
// matrix kernels (decode, fused GEMV) against the fp32 GEMV, all on one thread.
#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "llvq/report.hpp"
#include "llvq_bench/kernel_bench.hpp"

namespace llvq::cli {
namespace {

struct Options {
  bool json = false;
  kernels::LeechDecodeBenchConfig config;
};

void run(const Options& options) {
  const kernels::LeechDecodeBench r = kernels::bench_leech_decode(options.config);
  const kernels::LeechDecodeBenchConfig& config = options.config;
  if (options.json) {
    nlohmann::json j;
    j["shells"] = config.shells;
    j["blocks"] = config.blocks;
    for (const auto& p : r.profile) j["profile"].push_back({{"stage", p.stage}, {"cumulative_ns_per_block", p.cumulative_ns}, {"own_ns_per_block", p.own_ns}});
    for (const auto& t : r.throughput) j["throughput"].push_back({{"path", t.path}, {"weights_per_s", t.weights_per_s}});
    for (const auto& m : r.matrix)
      j["matrix"].push_back({{"kernel", m.kernel}, {"isa", m.isa},
                             {"codec", m.kernel == "fp32 gemv" ? "fp32" : config.codec}, {"rows", config.rows},
                             {"cols", config.cols}, {"bpw", m.bpw}, {"seconds", m.seconds},
                             {"speedup_vs_fp32", m.speedup_vs_fp32}, {"weights_per_s", m.weights_per_s}});
    std::printf("%s\n", j.dump(1).c_str());
    return;
  }
  Table tp({"stage (Λ24(" + std::to_string(config.shells) + "), 1 thread)", "ns/block cumulative", "ns/block own"});
  for (const auto& p : r.profile) tp.add_row({p.stage, strfmt("%.1f", p.cumulative_ns), strfmt("%.1f", p.own_ns)});
  std::printf("%s\n", tp.to_string().c_str());
  Table tt({"decode path", "weights/s"});
  for (const auto& t : r.throughput) tt.add_row({t.path, strfmt("%.3g", t.weights_per_s)});
  std::printf("%s\n", tt.to_string().c_str());
  Table tm({"kernel (" + config.codec + ", " + std::to_string(config.rows) + "x" + std::to_string(config.cols) +
                ", 1 thread)",
            "isa", "bpw", "ms", "vs fp32 gemv", "weights/s"});
  for (const auto& m : r.matrix)
    tm.add_row({m.kernel, m.isa, strfmt("%.4f", m.bpw), strfmt("%.3f", 1e3 * m.seconds), strfmt("%.2fx", m.speedup_vs_fp32),
                strfmt("%.3g", m.weights_per_s)});
  std::printf("%s", tm.to_string().c_str());
}

}  // namespace

void register_leech_kernel_commands(CLI::App&, CLI::App& bench) {
  auto options = std::make_shared<Options>();
  CLI::App* sub = bench.add_subcommand("leech-decode", "Leech kernels: per-stage decode profile, minimal vs split "
                                                       "layout throughput, packed decode and fused GEMV vs fp32 (1 thread)");
  sub->add_flag("--json", options->json, "Print JSON instead of tables");
  sub->add_option("--shells", options->config.shells, "Ball Λ24(M) of the profile (default 13, the 48-bit ball)");
  sub->add_option("--blocks", options->config.blocks,
                  "Random blocks of the profile (default 20000, so its arrays stay in cache)");
  sub->add_option("--rows", options->config.rows, "Rows of the benchmark matrix (default 4096)");
  sub->add_option("--cols", options->config.cols, "Columns of the benchmark matrix, a multiple of 24 (default 4104)");
  sub->add_option("--codec", options->config.codec, "Codec of the benchmark matrix (llvq-sg, llvq-ss ball, l24sq)");
  sub->add_option("--min-seconds", options->config.min_seconds, "Minimum time per measurement (default 0.3)");
  sub->callback([options] { run(*options); });
}

}  // namespace llvq::cli
