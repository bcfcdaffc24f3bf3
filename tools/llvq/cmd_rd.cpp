// `llvq rd`: rate–distortion of a codec on a synthetic source, the paper's 2-bpw table, and
// the rate–distortion plot of every codec.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "llvq/codec.hpp"
#include "llvq/error.hpp"
#include "llvq/output_file.hpp"
#include "llvq/rd.hpp"
#include "llvq/report.hpp"

namespace llvq::cli {

namespace {

void print_results(const std::vector<RdResult>& results, bool json) {
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : results) out.push_back(r.json());
    std::cout << (results.size() == 1 ? out[0] : out).dump(2) << "\n";
    return;
  }
  Table t({"codec", "bpw", "mse", "sqnr_bits", "retention", "shannon_mse", "enc blocks/s", "dec blocks/s", "threads"});
  for (const auto& r : results)
    t.add_row({r.codec, strfmt("%.4f", r.bpw), strfmt("%.5f", r.mse), strfmt("%.4f", r.sqnr_bits),
               strfmt("%.4f", r.retention), strfmt("%.5f", r.shannon_mse), strfmt("%.0f", r.encode_blocks_per_s),
               strfmt("%.0f", r.decode_blocks_per_s), std::to_string(r.threads)});
  std::cout << t.to_string();
}

void run_table(const RdSource& source, size_t blocks, uint64_t seed, size_t row, bool json) {
  nlohmann::json out = nlohmann::json::array();
  Table t({"method", "codec", "paper mse", "measured mse", "bpw", "sqnr_bits", "retention", "enc blocks/s"});
  for (const RdTableRow& p : measure_rd_table(source, blocks, seed, row)) {
    const std::string paper = std::isnan(p.paper_mse) ? "-" : strfmt("%.4f", p.paper_mse);
    if (const auto& r = p.result)
      t.add_row({p.method, r->codec, paper, strfmt("%.5f", r->mse), strfmt("%.4f", r->bpw), strfmt("%.4f", r->sqnr_bits),
                 strfmt("%.4f", r->retention), strfmt("%.0f", r->encode_blocks_per_s)});
    else
      t.add_row({p.method, p.spec, paper, "n/a", "-", "-", "-", p.error});
    out.push_back(p.json());
  }
  if (json)
    std::cout << out.dump(2) << "\n";
  else
    std::cout << t.to_string() << strfmt("Shannon bound D(2) = %.4f\n", std::exp2(-4.0));
}

// Specs swept by --plot: every codec at each rate it supports.
std::vector<std::string> plot_specs() {
  std::vector<std::string> specs;
  for (int b = 1; b <= 4; ++b) {
    specs.push_back("scalar:bpw=" + std::to_string(b) + ",kind=uniform");
    specs.push_back("scalar:bpw=" + std::to_string(b) + ",kind=lloyd");
  }
  specs.push_back("e8p");
  specs.push_back("l24sq");
  for (int b = 2; b <= 4; ++b) {
    specs.push_back("pvq:bpw=" + std::to_string(b));
    specs.push_back("llvq-sg:bpw=" + std::to_string(b));
    specs.push_back("llvq-ss:bpw=" + std::to_string(b));
  }
  return specs;
}

void run_plot(const std::string& png, const OutputPolicy& policy, const RdSource& source, size_t blocks, uint64_t seed,
              size_t row, bool json) {
  check_output(png, policy);  // before the measurements
  std::map<std::string, std::vector<RdResult>> series;  // by codec name
  std::vector<RdResult> all;
  for (const auto& spec : plot_specs()) {
    std::unique_ptr<Codec> codec;
    try {
      codec = make_codec(spec);
    } catch (const InputError& e) {
      std::fprintf(stderr, "llvq rd: skipping %s: %s\n", spec.c_str(), e.what());
      continue;
    }
    const RdResult r = measure_rd(*codec, source, blocks, seed, row);
    const std::string key = codec->name() + (spec.find("uniform") != std::string::npos ? " uniform"
                                             : spec.rfind("scalar", 0) == 0          ? " lloyd"
                                                                                     : "");
    series[key].push_back(r);
    all.push_back(r);
  }
  const auto dir = std::filesystem::temp_directory_path() / ("llvq-rd-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream script(dir / "plot.gp");
  // gnuplot draws into the output's temporary file (produce_output below).
  script << "set terminal pngcairo size 1000,700\nset output '" << (dir / "plot.png").string() << "'\n"
         << "set logscale y\nset xlabel 'bits per weight'\nset ylabel 'MSE per weight'\n"
         << "set title 'Rate-distortion, " << source.label << " source'\nset grid\nset key top right\n"
         << "plot [0.5:4.5] 2**(-2*x) title 'Shannon D(R) = 2^{-2R}' with lines lw 2";
  int k = 0;
  for (const auto& [name, points] : series) {
    const auto file = dir / ("s" + std::to_string(k++) + ".dat");
    std::ofstream data(file);
    for (const auto& r : points) data << r.bpw << " " << r.mse << "\n";
    script << ", '" << file.string() << "' title '" << name << "' with linespoints pt 7";
  }
  script << "\n";
  script.close();
  const std::string cmd = "gnuplot '" + (dir / "plot.gp").string() + "'";
  const int rc = std::system(cmd.c_str());
  try {
    if (rc != 0) throw InputError("gnuplot failed (exit " + std::to_string(rc) + ") writing " + png);
    produce_output(png, policy, [&](const std::string& tmp) { std::filesystem::rename(dir / "plot.png", tmp); });
  } catch (...) {
    std::filesystem::remove_all(dir);
    throw;
  }
  std::filesystem::remove_all(dir);
  print_results(all, json);
}

}  // namespace

void register_rd_commands(CLI::App& app, CLI::App& /*bench*/) {
  CLI::App* rd = app.add_subcommand("rd", "Rate-distortion of a codec on a synthetic source");
  static std::string spec = "llvq-sg", source = "gaussian", plot;
  static size_t blocks = 100000, row = 4096;
  static uint64_t seed = 1;
  static bool json = false, table = false;
  rd->add_option("--codec", spec, "Codec spec NAME[:key=value,...]; glvq:... runs with learn=0 and H = I")->capture_default_str();
  rd->add_option("--source", source, "gaussian | laplace | student:nu=V | model:PATH[:TENSOR] (rows scaled to unit RMS)")
      ->capture_default_str();
  rd->add_option("--blocks", blocks, "Number of blocks to code (rounded up to whole rows)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 30));
  rd->add_option("--seed", seed, "Seed of the source")->capture_default_str();
  rd->add_option("--row", row, "Row length: scales are fitted per row (or group); rounded up to the block size")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  rd->add_flag("--json", json, "Print JSON");
  rd->add_flag("--table", table, "Measure every row of the paper's 2-bpw Gaussian table, side by side");
  rd->add_option("--plot", plot, "Draw MSE against bits per weight for every codec into this PNG (gnuplot)");
  static bool force = false;
  rd->add_flag("--force", force, "Let --plot replace an existing file");
  rd->callback([] {
    const RdSource src = RdSource::parse(source);
    if (table) return run_table(src, blocks, seed, row, json);
    if (!plot.empty()) {
      const std::string model = source.rfind("model:", 0) == 0 ? source.substr(6) : std::string();
      return run_plot(plot, {.force = force, .inputs = {model}}, src, blocks, seed, row, json);
    }
    print_results({measure_rd(spec, src, blocks, seed, row)}, json);
  });
}

}  // namespace llvq::cli
