// `llvq bench leech-decode` (llvq_bench/kernel_bench.hpp): the split word's per-stage decode
// profile, the decode paths' throughput, and a packed matrix's kernels against fp32.
#include <algorithm>
#include <chrono>
#include <random>

#include "kernels/leech_profile.hpp"
#include "kernels/leech_tables.hpp"
#include "llvq/bitstream.hpp"
#include "llvq/codec.hpp"
#include "llvq/error.hpp"
#include "llvq/kernels.hpp"
#include "llvq/leech_ball.hpp"
#include "llvq_bench/kernel_bench.hpp"

namespace llvq::kernels {
namespace {


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

const char* const kStageNames[leech::kNumStages] = {
    "minimal: class lookup",
    "minimal: + radix split (divisions)",
    "minimal: + codeword, colex unrank, signs",
    "minimal: + float output",
    "minimal: + dot product (instead of floats)",
    "split: codeword, arrangement unrank",
    "split: + signs",
    "split: + float output",
    "split: + dot product (instead of floats)"};

// Random ball indices (uniform over Λ24(M), the origin included) and their split words.
void random_blocks(const leech::BlockTables& t, size_t n, std::vector<uint64_t>& indices, std::vector<uint64_t>& words) {
  std::mt19937_64 rng(1);
  indices.resize(n);
  words.resize(n);
  for (size_t b = 0; b < n; ++b) {
    indices[b] = rng() % t.ball_size;
    words[b] = leech::leech_split(t, 0, indices[b]);
  }
}

void run_profile(const LeechDecodeBenchConfig& o, std::vector<LeechDecodeBench::Stage>& profile,
                 std::vector<LeechDecodeBench::Path>& throughput) {
  const auto codec = make_codec("llvq-ss:shells=" + std::to_string(o.shells));
  const auto tables = leech::make_block_tables(std::get<LeechLayout>(codec->kernel_layout()));
  const leech::BlockTables& t = *tables;
  std::vector<uint64_t> indices, words;
  random_blocks(t, o.blocks, indices, words);
  std::vector<float> x(leech::kDim * o.blocks, 0.5f), out(leech::kDim * o.blocks);
  const double n = static_cast<double>(o.blocks);
  if (cpu_supports(Isa::Avx2)) {
    double seconds[leech::kNumStages];
    // Best of enough repeats for ~4 million blocks per stage (at least 5).
    const int repeats = static_cast<int>(std::clamp<size_t>(4000000 / o.blocks, 5, 200));
    leech::profile_stages_avx2(t, indices.data(), words.data(), x.data(), o.blocks, repeats, now_seconds,
                            out.data(), seconds);
    for (int s = 0; s < leech::kNumStages; ++s) {
      const bool first = s == leech::kClassLookup || s == leech::kSplitMagnitudes;
      const bool dot = s == leech::kMinimalDot || s == leech::kSplitDot;
      const double previous = first ? 0 : seconds[dot ? s - 2 : s - 1];
      profile.push_back({kStageNames[s], 1e9 * seconds[s] / n, 1e9 * (seconds[s] - previous) / n});
    }
    throughput.push_back({"minimal index → floats, direct (AVX2 build)", 24 * n / seconds[leech::kMinimalFloat]});
    throughput.push_back({"split word → floats (AVX2 build)", 24 * n / seconds[leech::kSplitFloat]});
  }
  // The library's own decode of the minimal index: LeechBall::unrank, then floats.
  const LeechBall& ball = LeechBall::get(o.shells);
  const double unrank = time_call(
      [&] {
        for (size_t b = 0; b < o.blocks; ++b) {
          const auto v = ball.unrank(indices[b]);
          for (int i = 0; i < leech::kDim; ++i) out[leech::kDim * b + i] = static_cast<float>(0.25 * v[i]);
        }
      },
      o.min_seconds);
  throughput.push_back({"LeechBall::unrank → floats (minimal path)", 24 * n / unrank});
  profile.push_back({"LeechBall::unrank → floats", 1e9 * unrank / n, 1e9 * unrank / n});
}

// A valid bitstream for the codec: random bf16 scales and uniformly random codes.
std::vector<uint8_t> random_codes(const Codec& codec, const leech::BlockTables& t, int64_t rows, int64_t cols) {
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

void run_matrix(const LeechDecodeBenchConfig& o, std::vector<LeechDecodeBench::Kernel>& rows_out) {
  const auto codec = make_codec(o.codec);
  const KernelLayout layout = codec->kernel_layout();
  const auto* params = std::get_if<LeechLayout>(&layout);
  if (!params || !has_kernels(*codec)) throw InputError("bench leech-decode: no Leech kernels for " + o.codec);
  const auto tables = leech::make_block_tables(*params);
  codec->check_row_length(static_cast<size_t>(o.cols));
  const auto codes = random_codes(*codec, *tables, o.rows, o.cols);
  const auto packed = pack(*codec, codes.data(), codes.size(), o.rows, o.cols);
  const double weights = static_cast<double>(o.rows) * static_cast<double>(o.cols);
  std::vector<float> w(static_cast<size_t>(weights)), x(static_cast<size_t>(o.cols)), y(static_cast<size_t>(o.rows));
  std::mt19937_64 rng(3);
  std::normal_distribution<float> normal;
  for (auto& v : x) v = normal(rng);
  decode(*packed, w.data(), 1);  // fp32 matrix for the baseline (and first touch)
  const double fp32 = time_call([&] { gemv_f32(w.data(), o.rows, o.cols, x.data(), y.data(), 1); }, o.min_seconds);
  rows_out.push_back({"fp32 gemv", "-", fp32, 1.0, weights / fp32, 32.0});
  const double bpw = packed->bits_per_weight();
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (!cpu_supports(isa)) continue;
    const double g = time_call([&] { packed->gemv_rows(x.data(), 0, o.rows, y.data(), isa); }, o.min_seconds);
    rows_out.push_back({"fused gemv", to_string(isa), g, fp32 / g, weights / g, bpw});
    const double d = time_call([&] { packed->decode_rows(0, o.rows, w.data(), isa); }, o.min_seconds);
    rows_out.push_back({"decode", to_string(isa), d, fp32 / d, weights / d, bpw});
  }
}

}  // namespace

LeechDecodeBench bench_leech_decode(const LeechDecodeBenchConfig& o) {
  if (o.shells < LeechBall::kMinShell || o.shells > LeechBall::kMaxShell)
    throw InputError("bench leech-decode: --shells must be between 2 and " + std::to_string(LeechBall::kMaxShell));
  if (o.blocks == 0) throw InputError("bench leech-decode: --blocks must be positive");
  if (o.rows <= 0 || o.cols <= 0) throw InputError("bench leech-decode: --rows and --cols must be positive");
  LeechDecodeBench r;
  run_profile(o, r.profile, r.throughput);
  run_matrix(o, r.matrix);
  return r;
}

}  // namespace llvq::kernels
