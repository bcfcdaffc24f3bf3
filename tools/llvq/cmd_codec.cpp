// `llvq codec encode|decode|list`, `llvq rd` (rate–distortion of a codec on a synthetic
// source) and `llvq bench codec`.
#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <map>
#include <memory>
#include <random>
#include <unistd.h>

#include "commands.hpp"
#include "llvq/output_file.hpp"
#include "llvq/codec.hpp"
#include "llvq/calibration.hpp"
#include "llvq/codec_container.hpp"
#include "llvq/error.hpp"
#include "llvq/glvq.hpp"
#include "llvq/model_io.hpp"
#include "llvq/quantize.hpp"
#include "llvq/report.hpp"

namespace llvq::cli {

namespace {

using Clock = std::chrono::steady_clock;

std::vector<float> read_f32(const std::string& path) {
  const auto bytes = read_file_bytes(path);
  if (bytes.size() % 4 != 0) throw InputError(path + ": size is not a multiple of 4 bytes (raw float32 expected)");
  std::vector<float> w(bytes.size() / 4);
  std::memcpy(w.data(), bytes.data(), bytes.size());
  return w;
}

void write_f32(const std::string& path, const OutputPolicy& policy, const std::vector<float>& w) {
  write_output(path, policy, [&](std::ostream& out) {
    out.write(reinterpret_cast<const char*>(w.data()), static_cast<std::streamsize>(4 * w.size()));
  });
}

// ---------------------------------------------------------------- sources

// A unit-variance i.i.d. source. Each row draws from its own generator seeded from (seed,
// row), so the data does not depend on the number of threads.
struct Source {
  enum Kind { kGaussian, kLaplace, kStudent, kModel } kind = kGaussian;
  double nu = 4;
  std::string label;
  // kModel: the weights of every linear layer (or of one tensor), each matrix row scaled to
  // unit RMS, concatenated; row r of the run is the slice starting at r·n (cycling).
  std::shared_ptr<std::vector<float>> weights;

  static Source from_model(const std::string& text) {
    const std::string rest = text.substr(6);
    // PATH[:TENSOR]: the tensor name is whatever follows the last ':' when PATH alone is not a
    // file but the part before that ':' is.
    std::string path = rest, tensor;
    std::error_code ec;
    if (const size_t colon = rest.rfind(':');
        colon != std::string::npos && !std::filesystem::exists(rest, ec) && std::filesystem::exists(rest.substr(0, colon), ec)) {
      path = rest.substr(0, colon);
      tensor = rest.substr(colon + 1);
    }
    LlamaModel m = load_model(path);
    Source s;
    s.kind = kModel;
    s.label = text;
    s.weights = std::make_shared<std::vector<float>>();
    for (const LinearSlot& slot : linear_slots(m)) {
      if (!tensor.empty() && slot.name != tensor) continue;
      const Linear& lin = **slot.slot;
      const std::vector<float> w = lin.dense_weight();
      const auto cols = static_cast<size_t>(lin.in_features());
      for (size_t r = 0; r < w.size() / cols; ++r) {
        double sum2 = 0;
        for (size_t c = 0; c < cols; ++c) sum2 += double(w[r * cols + c]) * w[r * cols + c];
        const double inv = sum2 > 0 ? std::sqrt(static_cast<double>(cols) / sum2) : 0.0;
        for (size_t c = 0; c < cols; ++c) s.weights->push_back(static_cast<float>(w[r * cols + c] * inv));
      }
    }
    if (s.weights->empty())
      throw InputError("source '" + text + "': no linear layer" + (tensor.empty() ? "" : " named " + tensor) + " in " + path);
    return s;
  }

  static Source parse(const std::string& text) {
    Source s;
    s.label = text;
    if (text == "gaussian") return s;
    if (text == "laplace") {
      s.kind = kLaplace;
      return s;
    }
    if (text.rfind("student", 0) == 0) {
      s.kind = kStudent;
      if (text != "student") {
        if (text.rfind("student:nu=", 0) != 0) throw InputError("source '" + text + "': expected student:nu=V");
        char* end = nullptr;
        s.nu = std::strtod(text.c_str() + 11, &end);
        if (*end != '\0' || !(s.nu > 2) || !std::isfinite(s.nu))
          throw InputError("source '" + text + "': nu must be a number > 2 (finite variance)");
      }
      return s;
    }
    if (text.rfind("model:", 0) == 0) return from_model(text);
    throw InputError("unknown source '" + text + "' (gaussian, laplace, student:nu=V, model:PATH[:TENSOR])");
  }

  void fill_row(uint64_t seed, size_t row, float* out, size_t n) const {
    if (kind == kModel) {
      const std::vector<float>& v = *weights;
      for (size_t i = 0; i < n; ++i) out[i] = v[(row * n + i) % v.size()];
      return;
    }
    std::seed_seq seq{seed, static_cast<uint64_t>(row), uint64_t{0x6c6c7671}};
    std::mt19937_64 rng(seq);
    std::normal_distribution<double> normal;
    std::exponential_distribution<double> expo(1.0);
    std::chi_squared_distribution<double> chi2(nu);
    for (size_t i = 0; i < n; ++i) {
      double v = 0;
      switch (kind) {
        case kGaussian: v = normal(rng); break;
        case kLaplace: v = (rng() & 1 ? 1 : -1) * expo(rng) / std::sqrt(2.0); break;
        case kStudent: v = normal(rng) / std::sqrt(chi2(rng) / nu) * std::sqrt((nu - 2) / nu); break;
        case kModel: break;
      }
      out[i] = static_cast<float>(v);
    }
  }
};

// ---------------------------------------------------------------- rate–distortion

struct RdResult {
  std::string codec;
  size_t blocks = 0, row = 0;
  double bpw = 0, mse = 0, sqnr_bits = 0, retention = 0, shannon_mse = 0;
  double encode_blocks_per_s = 0, decode_blocks_per_s = 0;
  int threads = 1;

  nlohmann::json json() const {
    return {{"codec", codec},
            {"bpw", bpw},
            {"mse", mse},
            {"sqnr_bits", sqnr_bits},
            {"retention", retention},
            {"shannon_mse", shannon_mse},
            {"encode_blocks_per_s", encode_blocks_per_s},
            {"decode_blocks_per_s", decode_blocks_per_s},
            {"encode_blocks_per_s_per_core", encode_blocks_per_s / threads},
            {"decode_blocks_per_s_per_core", decode_blocks_per_s / threads},
            {"threads", threads},
            {"blocks", blocks},
            {"row", row}};
  }
};

// MSE, SQNR, retention, the Shannon MSE at the measured rate and the throughputs of a run
// whose rate and block count are already in `r`.
void set_distortion(RdResult& r, const std::vector<float>& w, const std::vector<float>& back, double t_encode,
                    double t_decode, size_t decodes) {
  double err = 0, power = 0;
#pragma omp parallel for reduction(+ : err, power)
  for (int64_t i = 0; i < static_cast<int64_t>(w.size()); ++i) {
    const double e = static_cast<double>(w[i]) - back[i];
    err += e * e;
    power += static_cast<double>(w[i]) * w[i];
  }
  r.mse = err / static_cast<double>(w.size());
  power /= static_cast<double>(w.size());
  r.sqnr_bits = 0.5 * std::log2(power / r.mse);
  r.retention = r.sqnr_bits / r.bpw;
  r.shannon_mse = power * std::exp2(-2 * r.bpw);  // D(R) of a Gaussian of the same variance
  r.encode_blocks_per_s = static_cast<double>(r.blocks) / t_encode;
  r.decode_blocks_per_s = static_cast<double>(r.blocks * decodes) / t_decode;
  r.threads = omp_get_max_threads();
}

RdResult measure(const Codec& codec, const Source& source, size_t blocks, uint64_t seed, size_t row_wanted) {
  if (blocks == 0) throw InputError("--blocks must be positive");
  const size_t n = smallest_row_length(codec, row_wanted, 64 * row_wanted + 64 * codec.block_dim());
  const size_t rows = (blocks * codec.block_dim() + n - 1) / n;
  std::vector<float> w(rows * n), back(rows * n);
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < static_cast<int64_t>(rows); ++r) source.fill_row(seed, static_cast<size_t>(r), &w[r * n], n);

  auto t0 = Clock::now();
  const auto packed = codec.encode_rows(w.data(), rows, n);
  const double t_encode = seconds_since(t0);
  // Decoding is much faster than encoding: repeat it until the timing is meaningful.
  t0 = Clock::now();
  size_t decodes = 0;
  double t_decode = 0;
  do {
    codec.decode_rows(packed.data(), packed.size(), rows, n, back.data());
    ++decodes;
    t_decode = seconds_since(t0);
  } while (t_decode < 0.25);

  RdResult r;
  r.codec = codec.spec();
  r.row = n;
  r.blocks = rows * codec.blocks_per_row(n);
  r.bpw = codec.bits_per_weight(n);
  set_distortion(r, w, back, t_encode, t_decode, decodes);
  return r;
}

// GLVQ is a tensor-level quantizer: the run is one [rows, row] matrix (row rounded up to a
// multiple of D) quantized with H = I, so its objective is the plain MSE, and with learning
// off whatever the spec says: an i.i.d. source gives G nothing to learn. bpw includes G, μ, s.
RdResult measure_glvq(const std::string& spec, const Source& source, size_t blocks, uint64_t seed, size_t row_wanted) {
  if (blocks == 0) throw InputError("--blocks must be positive");
  GlvqConfig cfg = GlvqConfig::parse(spec);
  cfg.learn = false;
  const size_t d = static_cast<size_t>(cfg.dim);
  const size_t n = (std::max(row_wanted, d) + d - 1) / d * d;
  const size_t rows = (blocks * d + n - 1) / n;
  std::vector<float> w(rows * n), back;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < static_cast<int64_t>(rows); ++r) source.fill_row(seed, static_cast<size_t>(r), &w[r * n], n);
  const RowMatrixD wm = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
                            w.data(), static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(n))
                            .cast<double>();

  auto t0 = Clock::now();
  const GlvqTensor t = glvq_quantize(wm, Eigen::MatrixXd::Identity(wm.cols(), wm.cols()), cfg);
  const double t_encode = seconds_since(t0);
  t0 = Clock::now();
  size_t decodes = 0;
  double t_decode = 0;
  do {
    back = t.dequantize();
    ++decodes;
    t_decode = seconds_since(t0);
  } while (t_decode < 0.25);

  RdResult r;
  r.codec = cfg.spec();
  r.row = n;
  r.blocks = rows * n / d;
  r.bpw = t.bits_per_weight();
  set_distortion(r, w, back, t_encode, t_decode, decodes);
  return r;
}

// The paper's Gaussian 2-bpw table (docs/background.md §1) and the codec spec that measures each row.
struct PaperRow {
  const char* method;
  const char* spec;
  double paper_mse;  // NaN: no published figure
};

const std::vector<PaperRow>& paper_rows() {
  static const std::vector<PaperRow> rows = {
      {"uniform scalar", "scalar:bpw=2,kind=uniform", 0.15},
      {"Lloyd-Max scalar", "scalar:bpw=2,kind=lloyd", 0.1175},
      {"QuIP# E8P", "e8p", 0.0907},
      {"LLVQ spherical shaping L24(13)", "llvq-ss:bpw=2", 0.084},
      {"LLVQ shape-gain L24(13) + 0 gain bits", "llvq-sg:bpw=2,gain_bits=0", 0.085},
      {"LLVQ shape-gain L24(12) + 1 gain bit", "llvq-sg:bpw=2,gain_bits=1", 0.078},
      {"LLVQ shape-gain L24(11) + 2 gain bits", "llvq-sg:bpw=2,gain_bits=2", 0.080},
      {"LLVQ shape-gain L24(10) + 4 gain bits", "llvq-sg:bpw=2,gain_bits=4", 0.085},
      {"PVQ (ours, no paper figure)", "pvq:bpw=2", NAN},
  };
  return rows;
}

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

void run_table(const Source& source, size_t blocks, uint64_t seed, size_t row, bool json) {
  nlohmann::json out = nlohmann::json::array();
  Table t({"method", "codec", "paper mse", "measured mse", "bpw", "sqnr_bits", "retention", "enc blocks/s"});
  for (const PaperRow& p : paper_rows()) {
    nlohmann::json j = {{"method", p.method}, {"paper_mse", std::isnan(p.paper_mse) ? nlohmann::json() : nlohmann::json(p.paper_mse)}};
    const std::string paper = std::isnan(p.paper_mse) ? "-" : strfmt("%.4f", p.paper_mse);
    try {
      const auto codec = make_codec(p.spec);
      const RdResult r = measure(*codec, source, blocks, seed, row);
      j.update(r.json());
      t.add_row({p.method, r.codec, paper, strfmt("%.5f", r.mse), strfmt("%.4f", r.bpw), strfmt("%.4f", r.sqnr_bits),
                 strfmt("%.4f", r.retention), strfmt("%.0f", r.encode_blocks_per_s)});
    } catch (const InputError& e) {  // a codec not available in this build: say so, keep going
      j["error"] = e.what();
      t.add_row({p.method, p.spec, paper, "n/a", "-", "-", "-", e.what()});
    }
    out.push_back(j);
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

void run_plot(const std::string& png, const OutputPolicy& policy, const Source& source, size_t blocks, uint64_t seed,
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
    const RdResult r = measure(*codec, source, blocks, seed, row);
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

// ---------------------------------------------------------------- command registration

void register_codec_io(CLI::App& app) {
  CLI::App* codec = app.add_subcommand("codec", "Encode raw float32 weights with a codec, decode them back");
  codec->require_subcommand(1);

  auto* enc = codec->add_subcommand("encode", "Encode a raw little-endian float32 file into a codec container");
  static std::string spec, in, out;
  static size_t row = 0;
  static bool json = false;
  enc->add_option("--codec", spec, "Codec spec NAME[:key=value,...] (see `llvq codec list`)")->required();
  enc->add_flag("--json", json, "Print the summary as JSON");
  enc->add_option("--row", row, "Weights per row (side information is per row/group); default: the whole file");
  enc->add_option("IN", in, "Input: raw float32, length a multiple of the block size")->required();
  enc->add_option("OUT", out, "Output container (.llvq)")->required();
  static bool force = false;
  enc->add_flag("--force", force, "Replace OUT if it exists (never IN)");
  enc->callback([] {
    const auto codec = make_codec(spec);
    check_output(out, {.force = force, .inputs = {in}});
    const auto w = read_f32(in);
    if (w.empty()) throw InputError(in + ": empty input");
    const size_t n = row ? row : w.size();
    codec->check_row_length(n);
    const auto bytes = serialize_container(encode_container(*codec, w.data(), w.size(), n));
    write_output(out, {.force = force, .inputs = {in}}, [&](std::ostream& f) {
      f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    });
    const double container_bpw = 8.0 * static_cast<double>(bytes.size()) / static_cast<double>(w.size());
    if (json) {
      std::cout << nlohmann::json{{"codec", codec->spec()},     {"weights", w.size()},
                                  {"row", n},                   {"bytes", bytes.size()},
                                  {"container_bpw", container_bpw}, {"bpw", codec->bits_per_weight(n)}}
                       .dump(2)
                << "\n";
    } else {
      std::printf("%s: %zu weights, %zu bytes, %.4f bits per weight (container), %.4f (codes)\n",
                  codec->spec().c_str(), w.size(), bytes.size(), container_bpw, codec->bits_per_weight(n));
    }
  });

  auto* dec = codec->add_subcommand("decode", "Decode a codec container back to raw float32");
  static std::string din, dout;
  dec->add_option("IN", din, "Codec container written by `llvq codec encode`")->required();
  dec->add_option("OUT", dout, "Output: raw little-endian float32")->required();
  static bool dforce = false, djson = false;
  dec->add_flag("--force", dforce, "Replace OUT if it exists (never IN)");
  dec->add_flag("--json", djson, "Print the summary as JSON");
  dec->callback([] {
    const OutputPolicy policy{.force = dforce, .inputs = {din}};
    check_output(dout, policy);
    const auto c = parse_container(read_file_bytes(din));
    const auto w = decode_container(c);
    write_f32(dout, policy, w);
    if (djson)
      std::cout << nlohmann::json{{"codec", c.spec}, {"weights", w.size()}, {"row", c.row_length}, {"output", dout}}.dump(2)
                << "\n";
    else
      std::printf("%s: %zu weights decoded to %s\n", c.spec.c_str(), w.size(), dout.c_str());
  });

  auto* list = codec->add_subcommand("list", "List the codecs and their parameters");
  static bool ljson = false;
  list->add_flag("--json", ljson, "Print as JSON: [{name, description}]");
  list->callback([] {
    if (ljson) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& [name, description] : codec_catalog()) j.push_back({{"name", name}, {"description", description}});
      std::cout << j.dump(2) << "\n";
      return;
    }
    for (const auto& [name, description] : codec_catalog()) std::printf("%-8s  %s\n", name.c_str(), description.c_str());
  });
}

void register_rd(CLI::App& app) {
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
    const Source src = Source::parse(source);
    if (table) return run_table(src, blocks, seed, row, json);
    if (!plot.empty()) {
      const std::string model = source.rfind("model:", 0) == 0 ? source.substr(6) : std::string();
      return run_plot(plot, {.force = force, .inputs = {model}}, src, blocks, seed, row, json);
    }
    if (is_glvq_spec(spec)) return print_results({measure_glvq(spec, src, blocks, seed, row)}, json);
    const auto codec = make_codec(spec);
    print_results({measure(*codec, src, blocks, seed, row)}, json);
  });
}

void register_bench(CLI::App& bench) {
  CLI::App* b = bench.add_subcommand("codec", "Encode/decode throughput of codecs, one thread and all threads");
  static std::vector<std::string> specs = {"scalar:bpw=2", "e8p", "pvq:bpw=2", "llvq-sg:bpw=2", "llvq-ss:bpw=2",
                                           "l24sq"};
  static size_t blocks = 20000;
  static bool json = false;
  b->add_option("--codec", specs, "Codec specs to time (repeatable)")->capture_default_str();
  b->add_option("--blocks", blocks, "Blocks per measurement")->capture_default_str();
  b->add_flag("--json", json, "Print JSON");
  b->callback([] {
    const Source gaussian = Source::parse("gaussian");
    nlohmann::json out = nlohmann::json::array();
    Table t({"codec", "threads", "enc blocks/s", "enc blocks/s/core", "dec blocks/s", "dec blocks/s/core"});
    const int all = omp_get_max_threads();
    for (const auto& spec : specs) {
      std::unique_ptr<Codec> codec;
      try {
        codec = make_codec(spec);
      } catch (const InputError& e) {
        std::fprintf(stderr, "llvq bench codec: skipping %s: %s\n", spec.c_str(), e.what());
        continue;
      }
      for (int threads : {1, all}) {
        omp_set_num_threads(threads);
        const RdResult r = measure(*codec, gaussian, blocks, 1, 4096);
        out.push_back(r.json());
        t.add_row({r.codec, std::to_string(threads), strfmt("%.0f", r.encode_blocks_per_s),
                   strfmt("%.0f", r.encode_blocks_per_s / threads), strfmt("%.0f", r.decode_blocks_per_s),
                   strfmt("%.0f", r.decode_blocks_per_s / threads)});
        if (all == 1) break;
      }
      omp_set_num_threads(all);
    }
    std::cout << (json ? out.dump(2) + "\n" : t.to_string());
  });
}

}  // namespace

void register_codec_commands(CLI::App& app, CLI::App& bench) {
  register_codec_io(app);
  register_rd(app);
  register_bench(bench);
}

}  // namespace llvq::cli
