// `llvq bench gemv --device cuda`: cuBLAS fp32 / fp16 GEMV baselines, then decode to half and
// fused GEMV of each codec on the same random matrix, timed with CUDA events.
#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <random>

#include "kernels/cuda/device_matrix.cuh"
#include "llvq/codec.hpp"
#include "llvq/error.hpp"
#include "llvq/half.hpp"
#include "llvq_bench/kernel_bench.hpp"

namespace llvq::cuda {

namespace {

using detail::check;
using detail::DeviceBuffer;

constexpr int kRepeats = 5;  // timed batches; the median is reported

// The codecs measured when the configuration names none.
std::vector<std::string> default_codecs() { return {"e8p", "llvq-sg:bpw=2,gain_bits=1", "llvq-ss:shells=13"}; }

class CublasHandle {
 public:
  CublasHandle() { check(cublasCreate(&h_), "cublasCreate"); }
  ~CublasHandle() { cublasDestroy(h_); }
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;
  cublasHandle_t get() const { return h_; }

 private:
  cublasHandle_t h_ = nullptr;
};

class Event {
 public:
  Event() { check(cudaEventCreate(&e_), "cudaEventCreate"); }
  ~Event() { cudaEventDestroy(e_); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  cudaEvent_t get() const { return e_; }

 private:
  cudaEvent_t e_ = nullptr;
};

// Seconds per call of `call` (which enqueues one call on the default stream): batches sized so
// that all repeats together take about min_seconds; median over the batches.
double time_call(const std::function<void()>& call, double min_seconds) {
  Event start, stop;
  auto batch = [&](int iterations) {
    check(cudaEventRecord(start.get()), "cudaEventRecord");
    for (int i = 0; i < iterations; ++i) call();
    check(cudaEventRecord(stop.get()), "cudaEventRecord");
    check(cudaEventSynchronize(stop.get()), "cudaEventSynchronize");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, start.get(), stop.get()), "cudaEventElapsedTime");
    return 1e-3 * ms / iterations;
  };
  batch(3);  // warm-up: module load, caches, clocks
  const double estimate = std::max(batch(10), 1e-7);
  const int iterations = static_cast<int>(std::clamp(min_seconds / kRepeats / estimate, 1.0, 1e6));
  std::vector<double> per_call;
  for (int r = 0; r < kRepeats; ++r) per_call.push_back(batch(iterations));
  std::nth_element(per_call.begin(), per_call.begin() + kRepeats / 2, per_call.end());
  return per_call[kRepeats / 2];
}

kernels::GemvBenchRow make_row(const std::string& codec, const std::string& kernel, double bpw, double seconds,
                               int64_t rows, int64_t cols) {
  kernels::GemvBenchRow row;
  row.codec = codec;
  row.kernel = kernel;
  row.isa = "cuda:" + device_name();
  row.bpw = bpw;
  row.seconds = seconds;
  const double weights = static_cast<double>(rows) * static_cast<double>(cols);
  row.gbytes_per_s = weights * bpw / 8 / seconds / 1e9;
  row.weights_per_s = weights / seconds;
  return row;
}

}  // namespace

std::vector<kernels::GemvBenchRow> bench_gemv(const kernels::GemvBenchConfig& config) {
  try {
    require_device();
  } catch (const InputError& e) {
    throw InputError(std::string("bench gemv --device cuda: ") + e.what());
  }
  const int64_t rows = config.rows, cols = config.cols;
  if (rows <= 0 || cols <= 0 || rows * cols > (int64_t{1} << 31))
    throw InputError("bench gemv: shape [" + std::to_string(rows) + ", " + std::to_string(cols) +
                     "] must be positive with at most 2^31 weights");
  if (!(config.min_seconds > 0)) throw InputError("bench gemv: min_seconds must be positive");
  // Every codec is checked before anything slow runs.
  std::vector<std::unique_ptr<Codec>> codecs;
  for (const std::string& spec : config.codecs.empty() ? default_codecs() : config.codecs) {
    codecs.push_back(make_codec(spec));
    if (!has_kernels(*codecs.back())) throw InputError("bench gemv: no CUDA kernels for codec " + spec);
    codecs.back()->check_row_length(static_cast<size_t>(cols));
  }

  const size_t n = static_cast<size_t>(rows * cols);
  std::mt19937_64 rng(config.seed);
  std::normal_distribution<float> gauss;
  std::vector<float> w(n), x(static_cast<size_t>(cols));
  for (float& v : w) v = gauss(rng);
  for (float& v : x) v = gauss(rng);
  std::vector<uint16_t> w16(n), x16(x.size());
  std::transform(w.begin(), w.end(), w16.begin(), float_to_fp16);
  std::transform(x.begin(), x.end(), x16.begin(), float_to_fp16);

  DeviceBuffer<float> dw(n), dx(x.size()), dy(static_cast<size_t>(rows));
  DeviceBuffer<uint16_t> dw16(n), dx16(x.size());
  dw.upload(w.data(), n);
  dx.upload(x.data(), x.size());
  dw16.upload(w16.data(), n);
  dx16.upload(x16.data(), x16.size());

  // Row-major W [rows, cols] is column-major [cols, rows]: y = Wᵀ-of-that · x.
  CublasHandle blas;
  const float one = 1.f, zero = 0.f;
  const int m = static_cast<int>(cols), k = static_cast<int>(rows);
  const double t32 = time_call(
      [&] {
        check(cublasSgemv(blas.get(), CUBLAS_OP_T, m, k, &one, dw.get(), m, dx.get(), 1, &zero, dy.get(), 1),
              "cublasSgemv");
      },
      config.min_seconds);
  const double t16 = time_call(
      [&] {
        check(cublasGemmEx(blas.get(), CUBLAS_OP_T, CUBLAS_OP_N, k, 1, m, &one, dw16.get(), CUDA_R_16F, m, dx16.get(),
                           CUDA_R_16F, m, &zero, dy.get(), CUDA_R_32F, k, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
              "cublasGemmEx");
      },
      config.min_seconds);

  std::vector<kernels::GemvBenchRow> out;
  out.push_back(make_row("fp32", "cublas-gemv", 32, t32, rows, cols));
  out.push_back(make_row("fp16", "cublas-gemv", 16, t16, rows, cols));

  DeviceBuffer<__half> decoded(n);
  for (const auto& codec : codecs) {
    // A pool of encoded Gaussian rows tiled over the matrix, as the CPU bench does: encoding
    // every row of a large matrix with a Leech codec would take minutes.
    const std::vector<uint8_t> codes = kernels::synthetic_codes(*codec, rows, cols, config.seed);
    const DeviceMatrix matrix(*codec, codes.data(), codes.size(), rows, cols);
    const DeviceMatrix::Impl& impl = matrix.impl();
    const double bpw = 8.0 * static_cast<double>(impl.bytes) / static_cast<double>(n);
    const double t_decode = time_call([&] { impl.decode_half(decoded.get(), nullptr); }, config.min_seconds);
    const double t_gemv = time_call([&] { impl.gemv(dx.get(), dy.get(), nullptr); }, config.min_seconds);
    out.push_back(make_row(codec->spec(), "decode-half", bpw, t_decode, rows, cols));
    out.push_back(make_row(codec->spec(), "fused-gemv", bpw, t_gemv, rows, cols));
  }
  for (auto& row : out) {
    row.speedup_vs_fp32 = t32 / row.seconds;
    row.speedup_vs_fp16 = t16 / row.seconds;
  }
  return out;
}

}  // namespace llvq::cuda
