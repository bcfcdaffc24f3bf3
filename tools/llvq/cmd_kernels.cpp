// `llvq bench gemv`: dense fp32 / fp16 GEMV against decode and fused decode + GEMV of
// quantized layouts, in one run (measurement in bench/gemv.cpp, CUDA in bench/cuda_gemv.cu).
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "commands.hpp"
#include "llvq/error.hpp"
#include "llvq/glvq.hpp"
#include "llvq/kernels.hpp"
#include "llvq/quantize.hpp"
#include "llvq/report.hpp"
#include "llvq_bench/kernel_bench.hpp"

namespace llvq::cli {

namespace {

struct GemvOptions {
  kernels::GemvBenchConfig config;
  bool json = false;
  std::string isa;  // "" = the active level
  std::string device = "cpu";
};

nlohmann::json to_json(const kernels::GemvBenchRow& r) {
  nlohmann::json j = {{"codec", r.codec},     {"kernel", r.kernel},
                      {"isa", r.isa},         {"bpw", r.bpw},
                      {"seconds", r.seconds}, {"speedup_vs_fp32", r.speedup_vs_fp32},
                      {"gbytes_per_s", r.gbytes_per_s}, {"weights_per_s", r.weights_per_s}};
  if (r.speedup_vs_fp16 > 0) j["speedup_vs_fp16"] = r.speedup_vs_fp16;
  if (r.copy_fraction > 0) j["copy_fraction"] = r.copy_fraction;
  return j;
}

void print_report(const GemvOptions& options, const kernels::GemvBenchReport& report) {
  const auto& config = options.config;
  if (options.json) {
    nlohmann::json rows = nlohmann::json::array(), skipped = nlohmann::json::array();
    for (const auto& r : report.rows) rows.push_back(to_json(r));
    for (const auto& [codec, why] : report.skipped) skipped.push_back({{"codec", codec}, {"reason", why}});
    const nlohmann::json out = {{"rows", config.rows},  {"cols", config.cols},        {"threads", config.threads},
                                {"device", options.device}, {"results", rows}, {"skipped", skipped}};
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::cout << strfmt("GEMV %lld x %lld, %d thread(s), %s\n", static_cast<long long>(config.rows),
                      static_cast<long long>(config.cols), config.threads, options.device.c_str());
  // The CUDA bench also compares with cuBLAS fp16 and with the device's copy bandwidth.
  const bool cuda = options.device == "cuda";
  std::vector<std::string> head = {"codec", "kernel", "isa", "bpw", "ms", "Gweights/s", "GB/s", "speedup vs fp32"};
  if (cuda) head.insert(head.end(), {"vs fp16", "of copy GB/s"});
  Table t(head);
  for (const auto& r : report.rows) {
    std::vector<std::string> row = {r.codec,
                                    r.kernel,
                                    r.isa,
                                    strfmt("%.3f", r.bpw),
                                    strfmt("%.3f", r.seconds * 1e3),
                                    strfmt("%.2f", r.weights_per_s / 1e9),
                                    strfmt("%.1f", r.gbytes_per_s),
                                    strfmt("%.2fx", r.speedup_vs_fp32)};
    if (cuda) row.insert(row.end(), {strfmt("%.2fx", r.speedup_vs_fp16), strfmt("%.0f%%", 100 * r.copy_fraction)});
    t.add_row(row);
  }
  std::cout << t.to_string();
  for (const auto& [codec, why] : report.skipped) std::cout << codec << ": " << why << " (skipped)\n";
}

// GLVQ's rows of `bench gemv`: i.i.d. Gaussian weights quantized in the identity metric without
// rotation and with learning off (the kernels' speed depends on D, the bit widths and the
// companding, not on what G learned), then packed as QuantizedLinear packs them.
std::optional<std::unique_ptr<kernels::PackedMatrix>> glvq_matrix(const std::string& spec, int64_t rows, int64_t cols,
                                                                  uint64_t seed) {
  if (spec != "glvq" && spec.rfind("glvq:", 0) != 0) return std::nullopt;
  GlvqConfig cfg = GlvqConfig::parse(spec);
  cfg.learn = false;
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> w(static_cast<size_t>(rows * cols));
  for (float& v : w) v = n(rng);
  TensorQuantOptions o;
  o.codec = cfg.spec();
  o.hadamard = HadamardMode::None;
  std::vector<std::unique_ptr<kernels::PackedMatrix>> parts =
      quantize_tensor(w.data(), rows, cols, Eigen::MatrixXd(), o).tensor->pack_for_kernels();
  if (parts.empty()) return std::unique_ptr<kernels::PackedMatrix>();
  return std::move(parts.front());
}

void run_gemv(GemvOptions& options) {
  if (options.device == "cuda") {
    if (!options.isa.empty()) throw InputError("--isa applies to --device cpu only");
    // No --codec: the CUDA bench's own default list (the codecs that have CUDA kernels).
    print_report(options, cuda::bench_gemv(options.config));
    return;
  }
  if (!options.isa.empty()) kernels::set_isa(kernels::parse_isa(options.isa));
  options.config.tensor_matrix = glvq_matrix;
  print_report(options, kernels::bench_gemv(options.config));
}

}  // namespace

void register_kernel_commands(CLI::App&, CLI::App& bench) {
  auto options = std::make_shared<GemvOptions>();
  CLI::App* g = bench.add_subcommand("gemv", "Dense fp32/fp16 GEMV vs decode and fused decode+GEMV of quantized layouts");
  g->add_option("--rows", options->config.rows, "Matrix rows (output features)")->check(CLI::PositiveNumber);
  g->add_option("--cols", options->config.cols, "Matrix columns (input features; a multiple of each codec's block)")
      ->check(CLI::PositiveNumber);
  g->add_option("--codec", options->config.codecs,
                "Codec spec, repeatable (default: llvq-sg, llvq-ss:bpw=2, e8p, scalar:bpw=2); glvq:... specs are "
                "quantized with learning off");
  g->add_option("--threads", options->config.threads, "OpenMP threads (0 = all cores)")->check(threads_validator());
  g->add_option("--seed", options->config.seed, "Seed of the synthetic weights and inputs");
  g->add_option("--tokens", options->config.tokens,
                 "Also time T inputs at once (fp32 / cuBLAS GEMMs and each codec's batched fused kernel)")
      ->check(CLI::Range(1, 64));
  g->add_option("--pool-rows", options->config.pool_rows,
                "Distinct encoded rows tiled over the matrix (more rows: more of the decode tables in use)")
      ->check(CLI::PositiveNumber);
  g->add_option("--min-seconds", options->config.min_seconds, "Time spent per measurement (median of the calls)")
      ->check(CLI::PositiveNumber);
  g->add_flag("--json", options->json, "Print JSON");
  g->add_option("--isa", options->isa, "Force the ISA level: scalar, avx2 or avx512 (default: best, or LLVQ_ISA)");
  g->add_option("--device", options->device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  g->callback([options] { run_gemv(*options); });
}

}  // namespace llvq::cli
