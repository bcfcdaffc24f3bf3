// Measurement logic of `llvq bench gemv` on the CPU (llvq_bench/kernel_bench.hpp).
#include <algorithm>
#include <chrono>
#include <random>
#include <string>

#include "llvq/bitstream.hpp"
#include "llvq/codec.hpp"
#include "llvq/error.hpp"
#include "llvq/half.hpp"
#include "llvq/kernels.hpp"
#include "llvq/report.hpp"
#include "llvq_bench/kernel_bench.hpp"

namespace llvq::kernels {

namespace {

using Clock = std::chrono::steady_clock;

// Median seconds per call of `call`; `refresh` runs untimed before each call.
template <class Refresh, class Call>
double median_seconds(double min_seconds, Refresh&& refresh, Call&& call) {
  refresh();
  call();  // warm-up: page faults, thread start-up
  std::vector<double> times;
  double spent = 0;
  while ((spent < min_seconds || times.size() < 3) && times.size() < 10000) {
    refresh();
    const auto t0 = Clock::now();
    call();
    const double t = std::chrono::duration<double>(Clock::now() - t0).count();
    times.push_back(t);
    spent += t;
  }
  std::nth_element(times.begin(), times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2), times.end());
  return times[times.size() / 2];
}

// Fresh inputs for every call, so no result can be reused from the previous one.
struct Vectors {
  std::vector<float> x, y;
  std::mt19937_64 rng;
  // `tokens` inputs of `cols` and outputs of `rows`, each back to back.
  Vectors(int64_t cols, int64_t rows, uint64_t seed, int64_t tokens = 1)
      : x(static_cast<size_t>(cols * tokens)), y(static_cast<size_t>(rows * tokens)), rng(seed) {}
  void refresh() {
    std::normal_distribution<float> normal;
    for (float& v : x) v = normal(rng);
    std::fill(y.begin(), y.end(), 0.0f);
  }
};

GemvBenchRow make_row(const std::string& codec, const std::string& kernel, double bpw, double seconds,
                      double fp32_seconds, int64_t rows, int64_t cols) {
  GemvBenchRow row;
  row.codec = codec;
  row.kernel = kernel;
  row.isa = to_string(active_isa());
  row.bpw = bpw;
  row.seconds = seconds;
  row.speedup_vs_fp32 = fp32_seconds / seconds;
  const double weights = static_cast<double>(rows) * static_cast<double>(cols);
  row.weights_per_s = weights / seconds;
  row.gbytes_per_s = weights * bpw / 8 / seconds / 1e9;
  return row;
}

std::vector<float> gaussian(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> w(n);
  for (float& v : w) v = normal(rng);
  return w;
}

}  // namespace

std::vector<std::string> default_gemv_bench_codecs() { return {"llvq-sg", "llvq-ss:bpw=2", "e8p", "scalar:bpw=2"}; }

std::vector<uint8_t> synthetic_codes(const Codec& codec, int64_t rows, int64_t cols, uint64_t seed, int64_t pool_rows) {
  if (rows <= 0 || cols <= 0 || pool_rows <= 0) throw InputError("synthetic_codes: rows, cols and pool must be positive");
  codec.check_row_length(static_cast<size_t>(cols));
  const int64_t pool = std::min(rows, pool_rows);
  const std::vector<float> w = gaussian(static_cast<size_t>(pool * cols), seed);
  const std::vector<uint8_t> pool_codes = codec.encode_rows(w.data(), static_cast<size_t>(pool), static_cast<size_t>(cols));
  const size_t row_bits = codec.row_bits(static_cast<size_t>(cols));
  // Each pool row as its own bit string, then the rows repeated.
  std::vector<BitWriter> pool_rows_bits(static_cast<size_t>(pool));
  BitReader in(pool_codes.data(), pool_codes.size());
  for (BitWriter& row : pool_rows_bits)
    for (size_t left = row_bits; left > 0;) {
      const int take = static_cast<int>(std::min<size_t>(left, 56));
      row.put(in.get(take), take);
      left -= static_cast<size_t>(take);
    }
  BitWriter out;
  for (int64_t r = 0; r < rows; ++r) out.append(pool_rows_bits[static_cast<size_t>(r % pool)]);
  return out.bytes();
}

namespace {

// The packed matrix of `spec`: a tensor-level quantizer's (config.tensor_matrix), or a row
// codec's from synthetic_codes; nullptr, with the reason in report.skipped, when it has no kernels.
std::unique_ptr<PackedMatrix> packed_matrix(const GemvBenchConfig& config, const std::string& spec,
                                            GemvBenchReport& report) {
  if (config.tensor_matrix) {
    std::optional<std::unique_ptr<PackedMatrix>> m = config.tensor_matrix(spec, config.rows, config.cols, config.seed + 2);
    if (m) {
      if (!*m) report.skipped.emplace_back(spec, "no kernels");
      return std::move(*m);
    }
  }
  const std::unique_ptr<Codec> codec = make_codec(spec);
  // Lattice codes without kernels on their codes run from integer blocks, as QuantizedLinear
  // runs them.
  const bool own_kernels = has_kernels(*codec);
  if (!own_kernels && (codec->block_dim() != 24 || config.cols % 24 != 0)) {
    report.skipped.emplace_back(codec->spec(), "no kernels");
    return nullptr;
  }
  const std::vector<uint8_t> codes =
      synthetic_codes(*codec, config.rows, config.cols, config.seed + 2, config.pool_rows);
  auto m = own_kernels ? pack(*codec, codes.data(), codes.size(), config.rows, config.cols)
                       : pack_integer_blocks(*codec, codes.data(), codes.size(), config.rows, config.cols);
  if (!m) report.skipped.emplace_back(codec->spec(), "no kernels");
  return m;
}

std::string batched_kernel(const std::string& kernel, int64_t tokens) { return kernel + " x" + std::to_string(tokens); }

// The dense baseline for `tokens` inputs at once: fp32 W read once for all of them (gemm_f32;
// an Eigen GEMM of this shape ran 4.7× slower, repacking W on every call).
double add_fp32_batched_row(const GemvBenchConfig& config, GemvBenchReport& report) {
  const int64_t rows = config.rows, cols = config.cols;
  const std::vector<float> w = gaussian(static_cast<size_t>(rows * cols), config.seed);
  Vectors v(cols, rows, config.seed + 3, config.tokens);
  const double t = median_seconds(config.min_seconds, [&] { v.refresh(); }, [&] {
    gemm_f32(w.data(), rows, cols, v.x.data(), cols, config.tokens, v.y.data(), config.threads);
  });
  report.rows.push_back(make_row("fp32", batched_kernel("gemm", config.tokens), 32, t, t, rows, cols));
  return t;
}

// One codec's fused kernel for config.tokens inputs at once (kernels::gemm), against the fp32
// GEMM of the same batch.
void add_batched_row(const GemvBenchConfig& config, const PackedMatrix& m, double fp32_seconds,
                     GemvBenchReport& report) {
  Vectors v(m.cols(), config.rows, config.seed + 4, config.tokens);
  const double t = median_seconds(config.min_seconds, [&] { v.refresh(); },
                                  [&] { gemm(m, v.x.data(), m.cols(), config.tokens, v.y.data(), config.threads); });
  report.rows.push_back(make_row(m.codec_spec(), batched_kernel("fused-gemm", config.tokens), m.bits_per_weight(), t,
                                 fp32_seconds, config.rows, config.cols));
}

}  // namespace

GemvBenchReport bench_gemv(const GemvBenchConfig& config) {
  const int64_t rows = config.rows, cols = config.cols;
  if (rows <= 0 || cols <= 0) throw InputError("bench gemv: rows and cols must be positive");
  if (config.tokens < 1 || config.tokens > 64) throw InputError("bench gemv: tokens must be in 1..64");
  if (config.threads < 0) throw InputError("bench gemv: threads must be ≥ 0");
  const std::vector<std::string> specs = config.codecs.empty() ? default_gemv_bench_codecs() : config.codecs;
  GemvBenchReport report;
  Vectors v(cols, rows, config.seed + 1);
  const int threads = config.threads;
  const size_t n = static_cast<size_t>(rows * cols);

  double fp32_seconds = 0;
  {
    const std::vector<float> w = gaussian(n, config.seed);
    fp32_seconds = median_seconds(config.min_seconds, [&] { v.refresh(); },
                                  [&] { gemv_f32(w.data(), rows, cols, v.x.data(), v.y.data(), threads); });
    report.rows.push_back(make_row("fp32", "gemv", 32, fp32_seconds, fp32_seconds, rows, cols));
    std::vector<uint16_t> h(n);
    for (size_t i = 0; i < n; ++i) h[i] = float_to_fp16(w[i]);
    const double t = median_seconds(config.min_seconds, [&] { v.refresh(); },
                                    [&] { gemv_f16(h.data(), rows, cols, v.x.data(), v.y.data(), threads); });
    report.rows.push_back(make_row("fp16", "gemv", 16, t, fp32_seconds, rows, cols));
    if (cols % 32 == 0) {  // GGUF Q8_0, the form dense weights are often kept in
      const std::vector<uint8_t> q = quantize_q8_0(w.data(), w.size());
      const double tq = median_seconds(config.min_seconds, [&] { v.refresh(); },
                                       [&] { gemv_q8_0(q.data(), rows, cols, v.x.data(), v.y.data(), threads); });
      report.rows.push_back(make_row("q8_0", "gemv", 8.5, tq, fp32_seconds, rows, cols));
    }
  }

  const double fp32_batched_seconds = config.tokens > 1 ? add_fp32_batched_row(config, report) : 0;

  std::vector<float> decoded;
  Progress progress("bench gemv", specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    const std::string& spec = specs[i];
    progress.update(i, spec + ": encoding " + std::to_string(std::min(rows, config.pool_rows)) + " distinct rows");
    std::unique_ptr<PackedMatrix> m = packed_matrix(config, spec, report);
    if (!m) continue;
    decoded.resize(static_cast<size_t>(rows * m->cols()));
    const double td = median_seconds(config.min_seconds, [] {}, [&] { decode(*m, decoded.data(), threads); });
    report.rows.push_back(make_row(m->codec_spec(), "decode", m->bits_per_weight(), td, fp32_seconds, rows, cols));
    // A padded layout (GLVQ: columns up to a multiple of D) reads x zero-extended.
    std::vector<float> x(static_cast<size_t>(m->cols()), 0.0f);
    const double tg = median_seconds(config.min_seconds, [&] {
      v.refresh();
      std::copy(v.x.begin(), v.x.end(), x.begin());
    }, [&] { gemv(*m, x.data(), v.y.data(), threads); });
    report.rows.push_back(make_row(m->codec_spec(), "fused-gemv", m->bits_per_weight(), tg, fp32_seconds, rows, cols));
    if (config.tokens > 1) add_batched_row(config, *m, fp32_batched_seconds, report);
  }
  progress.finish();
  return report;
}

}  // namespace llvq::kernels
