// llvq bench leech-decode: per-stage profile of the Leech block decode (minimal 48-bit index
// vs the split word of the kernel layout), decode throughput of both paths, and the packed
// matrix kernels (decode, fused GEMV) against the fp32 GEMV, all on one thread.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "kernels/leech_profile.hpp"
#include "kernels/leech_tables.hpp"
#include "llvq/bitstream.hpp"
#include "llvq/codec.hpp"
#include "llvq/error.hpp"
#include "llvq/kernels.hpp"
#include "llvq/leech_ball.hpp"
#include "llvq/report.hpp"

namespace llvq::cli {
namespace {

namespace lk = kernels::leech;

struct Options {
  bool json = false;
  int shells = 13;
  size_t blocks = 20000;
  int64_t rows = 4096, cols = 4104;
  std::string codec = "llvq-sg:bpw=2,gain_bits=1";
  double min_seconds = 0.3;
};

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Fastest of repeated calls of f (at least 3, for at least min_seconds): the machine is shared,
// and the minimum is the figure least disturbed by other processes.
template <class F>
double time_call(F&& f, double min_seconds) {
  double best = 1e300;
  const double start = now_seconds();
  for (int n = 0; n < 3 || now_seconds() - start < min_seconds; ++n) {
    const double t0 = now_seconds();
    f();
    best = std::min(best, now_seconds() - t0);
  }
  return best;
}

const char* const kStageNames[lk::kNumStages] = {
    "minimal: class lookup",
    "minimal: + radix split (divisions)",
    "minimal: + codeword, colex unrank, signs",
    "minimal: + float output",
    "minimal: + dot product (instead of floats)",
    "split: codeword, arrangement unrank",
    "split: + signs",
    "split: + float output",
    "split: + dot product (instead of floats)"};

struct ProfileRow {
  std::string stage;
  double cumulative_ns, own_ns;
};

struct ThroughputRow {
  std::string path;
  double weights_per_s;
};

struct MatrixRow {
  std::string kernel, isa;
  double seconds, speedup_vs_fp32, weights_per_s, bpw;
};

// Random ball indices (uniform over Λ24(M), the origin included) and their split words.
void random_blocks(const lk::BlockTables& t, size_t n, std::vector<uint64_t>& indices, std::vector<uint64_t>& words) {
  std::mt19937_64 rng(1);
  indices.resize(n);
  words.resize(n);
  for (size_t b = 0; b < n; ++b) {
    indices[b] = rng() % t.ball_size;
    words[b] = lk::leech_split(t, 0, indices[b]);
  }
}

void run_profile(const Options& o, std::vector<ProfileRow>& profile, std::vector<ThroughputRow>& throughput) {
  const auto codec = make_codec("llvq-ss:shells=" + std::to_string(o.shells));
  const auto tables = lk::make_block_tables(std::get<LeechLayout>(codec->kernel_layout()));
  const lk::BlockTables& t = *tables;
  std::vector<uint64_t> indices, words;
  random_blocks(t, o.blocks, indices, words);
  std::vector<float> x(lk::kDim * o.blocks, 0.5f), out(lk::kDim * o.blocks);
  const double n = static_cast<double>(o.blocks);
  if (kernels::cpu_supports(kernels::Isa::Avx2)) {
    double seconds[lk::kNumStages];
    // Best of enough repeats for ~4 million blocks per stage (at least 5).
    const int repeats = static_cast<int>(std::clamp<size_t>(4000000 / o.blocks, 5, 200));
    lk::profile_stages_avx2(t, indices.data(), words.data(), x.data(), o.blocks, repeats, now_seconds,
                            out.data(), seconds);
    for (int s = 0; s < lk::kNumStages; ++s) {
      const bool first = s == lk::kClassLookup || s == lk::kSplitMagnitudes;
      const bool dot = s == lk::kMinimalDot || s == lk::kSplitDot;
      const double previous = first ? 0 : seconds[dot ? s - 2 : s - 1];
      profile.push_back({kStageNames[s], 1e9 * seconds[s] / n, 1e9 * (seconds[s] - previous) / n});
    }
    throughput.push_back({"minimal index → floats, direct (AVX2 build)", 24 * n / seconds[lk::kMinimalFloat]});
    throughput.push_back({"split word → floats (AVX2 build)", 24 * n / seconds[lk::kSplitFloat]});
  }
  // The library's own decode of the minimal index: LeechBall::unrank, then floats.
  const LeechBall& ball = LeechBall::get(o.shells);
  const double unrank = time_call(
      [&] {
        for (size_t b = 0; b < o.blocks; ++b) {
          const leech::Vec v = ball.unrank(indices[b]);
          for (int i = 0; i < lk::kDim; ++i) out[lk::kDim * b + i] = static_cast<float>(0.25 * v[i]);
        }
      },
      o.min_seconds);
  throughput.push_back({"LeechBall::unrank → floats (minimal path)", 24 * n / unrank});
  profile.push_back({"LeechBall::unrank → floats", 1e9 * unrank / n, 1e9 * unrank / n});
}

// A valid bitstream for the codec: random bf16 scales and uniformly random codes.
std::vector<uint8_t> random_codes(const Codec& codec, const lk::BlockTables& t, int64_t rows, int64_t cols) {
  const auto p = std::get<LeechLayout>(codec.kernel_layout());
  const int64_t group = p.group ? static_cast<int64_t>(p.group) : cols;
  std::mt19937_64 rng(2);
  BitWriter out;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t g = 0; g < cols / group; ++g) out.put(0x3C00 + (rng() & 0xFF), 16);  // scales ≈ 0.008..0.016
    for (int64_t j = 0; j < cols / 24; ++j) {
      out.put(rng(), t.gain_bits);
      out.put(t.min_index + rng() % (t.ball_size - t.min_index), t.ball_bits);
    }
  }
  return out.bytes();
}

void run_matrix(const Options& o, std::vector<MatrixRow>& rows_out) {
  const auto codec = make_codec(o.codec);
  const KernelLayout layout = codec->kernel_layout();
  const auto* params = std::get_if<LeechLayout>(&layout);
  if (!params || !kernels::has_kernels(*codec)) throw InputError("bench leech-decode: no Leech kernels for " + o.codec);
  const auto tables = lk::make_block_tables(*params);
  codec->check_row_length(static_cast<size_t>(o.cols));
  const auto codes = random_codes(*codec, *tables, o.rows, o.cols);
  const auto packed = kernels::pack(*codec, codes.data(), codes.size(), o.rows, o.cols);
  const double weights = static_cast<double>(o.rows) * static_cast<double>(o.cols);
  std::vector<float> w(static_cast<size_t>(weights)), x(static_cast<size_t>(o.cols)), y(static_cast<size_t>(o.rows));
  std::mt19937_64 rng(3);
  std::normal_distribution<float> normal;
  for (auto& v : x) v = normal(rng);
  kernels::decode(*packed, w.data(), 1);  // fp32 matrix for the baseline (and first touch)
  const double fp32 = time_call([&] { kernels::gemv_f32(w.data(), o.rows, o.cols, x.data(), y.data(), 1); }, o.min_seconds);
  rows_out.push_back({"fp32 gemv", "-", fp32, 1.0, weights / fp32, 32.0});
  const double bpw = packed->bits_per_weight();
  for (kernels::Isa isa : {kernels::Isa::Scalar, kernels::Isa::Avx2, kernels::Isa::Avx512}) {
    if (!kernels::cpu_supports(isa)) continue;
    const double g = time_call([&] { packed->gemv_rows(x.data(), 0, o.rows, y.data(), isa); }, o.min_seconds);
    rows_out.push_back({"fused gemv", kernels::to_string(isa), g, fp32 / g, weights / g, bpw});
    const double d = time_call([&] { packed->decode_rows(0, o.rows, w.data(), isa); }, o.min_seconds);
    rows_out.push_back({"decode", kernels::to_string(isa), d, fp32 / d, weights / d, bpw});
  }
}

void run(const Options& o) {
  if (o.shells < LeechBall::kMinShell || o.shells > LeechBall::kMaxShell)
    throw InputError("bench leech-decode: --shells must be between 2 and " + std::to_string(LeechBall::kMaxShell));
  if (o.blocks == 0) throw InputError("bench leech-decode: --blocks must be positive");
  if (o.rows <= 0 || o.cols <= 0) throw InputError("bench leech-decode: --rows and --cols must be positive");
  std::vector<ProfileRow> profile;
  std::vector<ThroughputRow> throughput;
  std::vector<MatrixRow> matrix;
  run_profile(o, profile, throughput);
  run_matrix(o, matrix);
  if (o.json) {
    nlohmann::json j;
    j["shells"] = o.shells;
    j["blocks"] = o.blocks;
    for (const auto& p : profile) j["profile"].push_back({{"stage", p.stage}, {"cumulative_ns_per_block", p.cumulative_ns}, {"own_ns_per_block", p.own_ns}});
    for (const auto& t : throughput) j["throughput"].push_back({{"path", t.path}, {"weights_per_s", t.weights_per_s}});
    for (const auto& m : matrix)
      j["matrix"].push_back({{"kernel", m.kernel}, {"isa", m.isa}, {"codec", m.kernel == "fp32 gemv" ? "fp32" : o.codec},
                             {"rows", o.rows}, {"cols", o.cols}, {"bpw", m.bpw}, {"seconds", m.seconds},
                             {"speedup_vs_fp32", m.speedup_vs_fp32}, {"weights_per_s", m.weights_per_s}});
    std::printf("%s\n", j.dump(1).c_str());
    return;
  }
  Table tp({"stage (Λ24(" + std::to_string(o.shells) + "), 1 thread)", "ns/block cumulative", "ns/block own"});
  for (const auto& p : profile) tp.add_row({p.stage, strfmt("%.1f", p.cumulative_ns), strfmt("%.1f", p.own_ns)});
  std::printf("%s\n", tp.to_string().c_str());
  Table tt({"decode path", "weights/s"});
  for (const auto& t : throughput) tt.add_row({t.path, strfmt("%.3g", t.weights_per_s)});
  std::printf("%s\n", tt.to_string().c_str());
  Table tm({"kernel (" + o.codec + ", " + std::to_string(o.rows) + "x" + std::to_string(o.cols) + ", 1 thread)", "isa",
            "bpw", "ms", "vs fp32 gemv", "weights/s"});
  for (const auto& m : matrix)
    tm.add_row({m.kernel, m.isa, strfmt("%.4f", m.bpw), strfmt("%.3f", 1e3 * m.seconds), strfmt("%.2fx", m.speedup_vs_fp32),
                strfmt("%.3g", m.weights_per_s)});
  std::printf("%s", tm.to_string().c_str());
}

}  // namespace

void register_leech_kernel_commands(CLI::App&, CLI::App& bench) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = bench.add_subcommand("leech-decode", "Leech kernels: per-stage decode profile, minimal vs split "
                                                       "layout throughput, packed decode and fused GEMV vs fp32 (1 thread)");
  sub->add_flag("--json", o->json, "Print JSON instead of tables");
  sub->add_option("--shells", o->shells, "Ball Λ24(M) of the profile (default 13, the 48-bit ball)");
  sub->add_option("--blocks", o->blocks, "Random blocks of the profile (default 20000, so its arrays stay in cache)");
  sub->add_option("--rows", o->rows, "Rows of the benchmark matrix (default 4096)");
  sub->add_option("--cols", o->cols, "Columns of the benchmark matrix, a multiple of 24 (default 4104)");
  sub->add_option("--codec", o->codec, "Codec of the benchmark matrix (llvq-sg, llvq-ss ball, l24sq)");
  sub->add_option("--min-seconds", o->min_seconds, "Minimum time per measurement (default 0.3)");
  sub->callback([o] { run(*o); });
}

}  // namespace llvq::cli
