// `llvq bench gemv --device cuda`: cuBLAS fp32 / fp16 GEMV baselines, then decode to half and
// fused GEMV of each codec on the same random matrix, timed with CUDA events. Every timed
// operand rotates over enough copies to exceed the GPU's L2 four times, so weights and codes
// come from device memory as they would in a model, not from the cache; the bandwidth a kernel
// reaches is reported against a device-to-device copy measured in the same run.
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

// Copies of an operand of `bytes` bytes to rotate over: at least four L2s in all (so no call
// finds its operand in the cache), at most 64 and at most half the free device memory.
int rotation_sets(uint64_t bytes) {
  int device = 0, l2 = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  check(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, device), "cudaDeviceGetAttribute");
  size_t free = 0, total = 0;
  check(cudaMemGetInfo(&free, &total), "cudaMemGetInfo");
  const uint64_t want = (4 * static_cast<uint64_t>(l2) + bytes - 1) / std::max<uint64_t>(bytes, 1);
  const uint64_t room = free / 2 / std::max<uint64_t>(bytes, 1);
  return static_cast<int>(std::clamp<uint64_t>(std::min(want, room), 1, 64));
}

// Device memory bandwidth as a large device-to-device copy moves it (bytes read plus written).
double copy_bandwidth(double min_seconds) {
  size_t free = 0, total = 0;
  check(cudaMemGetInfo(&free, &total), "cudaMemGetInfo");
  const size_t bytes = std::min<size_t>(size_t{512} << 20, free / 4);
  DeviceBuffer<uint8_t> a(bytes), b(bytes);
  check(cudaMemset(a.get(), 1, bytes), "cudaMemset");
  const double t = time_call(
      [&] { check(cudaMemcpyAsync(b.get(), a.get(), bytes, cudaMemcpyDeviceToDevice), "cudaMemcpyAsync"); },
      min_seconds);
  return 2.0 * static_cast<double>(bytes) / t;
}

// `sets` device copies of host data.
template <class T>
std::vector<DeviceBuffer<T>> upload_copies(const std::vector<T>& host, int sets) {
  std::vector<DeviceBuffer<T>> out;
  for (int i = 0; i < sets; ++i) {
    out.emplace_back(host.size());
    out.back().upload(host.data(), host.size());
  }
  return out;
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

kernels::GemvBenchReport bench_gemv(const kernels::GemvBenchConfig& config) {
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
  kernels::GemvBenchReport report;
  std::vector<std::unique_ptr<Codec>> codecs;
  for (const std::string& spec : config.codecs.empty() ? default_codecs() : config.codecs) {
    auto codec = make_codec(spec);
    if (!has_kernels(*codec)) throw InputError("bench gemv: no CUDA kernels for codec " + spec);
    try {
      codec->check_row_length(static_cast<size_t>(cols));
    } catch (const InputError& e) {
      report.skipped.emplace_back(spec, e.what());  // e.g. 8192 columns for 24-weight blocks
      continue;
    }
    codecs.push_back(std::move(codec));
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

  const double copy = copy_bandwidth(config.min_seconds);  // before the operands take the memory
  DeviceBuffer<float> dx(x.size()), dy(static_cast<size_t>(rows));
  DeviceBuffer<uint16_t> dx16(x.size());
  dx.upload(x.data(), x.size());
  dx16.upload(x16.data(), x16.size());
  const auto dw = upload_copies(w, rotation_sets(n * sizeof(float)));
  const auto dw16 = upload_copies(w16, rotation_sets(n * sizeof(uint16_t)));

  // Row-major W [rows, cols] is column-major [cols, rows]: y = Wᵀ-of-that · x.
  CublasHandle blas;
  const float one = 1.f, zero = 0.f;
  const int m = static_cast<int>(cols), k = static_cast<int>(rows);
  size_t call = 0;  // rotates the operands
  const double t32 = time_call(
      [&] {
        const float* a = dw[call++ % dw.size()].get();
        check(cublasSgemv(blas.get(), CUBLAS_OP_T, m, k, &one, a, m, dx.get(), 1, &zero, dy.get(), 1), "cublasSgemv");
      },
      config.min_seconds);
  const double t16 = time_call(
      [&] {
        const uint16_t* a = dw16[call++ % dw16.size()].get();
        check(cublasGemmEx(blas.get(), CUBLAS_OP_T, CUBLAS_OP_N, k, 1, m, &one, a, CUDA_R_16F, m, dx16.get(),
                           CUDA_R_16F, m, &zero, dy.get(), CUDA_R_32F, k, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
              "cublasGemmEx");
      },
      config.min_seconds);

  // --tokens T: T inputs at once, cuBLAS GEMMs with n = T as the baselines of the batched rows.
  const int tokens = static_cast<int>(config.tokens);
  const std::string batch = " x" + std::to_string(tokens);
  double t32_batch = 0, t16_batch = 0;
  // A row, compared with the cuBLAS calls of its batch size and with the copy bandwidth.
  auto add_row = [&](const std::string& codec, const std::string& kernel, double bpw, double seconds, bool batched) {
    kernels::GemvBenchRow row = make_row(codec, kernel, bpw, seconds, rows, cols);
    row.speedup_vs_fp32 = (batched ? t32_batch : t32) / seconds;
    row.speedup_vs_fp16 = (batched ? t16_batch : t16) / seconds;
    row.copy_fraction = row.gbytes_per_s * 1e9 / copy;
    report.rows.push_back(row);
  };
  add_row("fp32", "cublas-gemv", 32, t32, false);
  add_row("fp16", "cublas-gemv", 16, t16, false);

  DeviceBuffer<float> dxt(static_cast<size_t>(tokens * cols)), dyt(static_cast<size_t>(tokens * rows));
  DeviceBuffer<uint16_t> dxt16(static_cast<size_t>(tokens * cols));
  if (tokens > 1) {
    std::vector<float> xt(static_cast<size_t>(tokens * cols));
    for (float& v : xt) v = gauss(rng);
    std::vector<uint16_t> xt16(xt.size());
    std::transform(xt.begin(), xt.end(), xt16.begin(), float_to_fp16);
    dxt.upload(xt.data(), xt.size());
    dxt16.upload(xt16.data(), xt16.size());
    t32_batch = time_call(
        [&] {
          const float* a = dw[call++ % dw.size()].get();
          check(cublasSgemm(blas.get(), CUBLAS_OP_T, CUBLAS_OP_N, k, tokens, m, &one, a, m, dxt.get(), m, &zero,
                            dyt.get(), k),
                "cublasSgemm");
        },
        config.min_seconds);
    t16_batch = time_call(
        [&] {
          const uint16_t* a = dw16[call++ % dw16.size()].get();
          check(cublasGemmEx(blas.get(), CUBLAS_OP_T, CUBLAS_OP_N, k, tokens, m, &one, a, CUDA_R_16F, m, dxt16.get(),
                             CUDA_R_16F, m, &zero, dyt.get(), CUDA_R_32F, k, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                "cublasGemmEx");
        },
        config.min_seconds);
    add_row("fp32", "cublas-gemm" + batch, 32, t32_batch, true);
    add_row("fp16", "cublas-gemm" + batch, 16, t16_batch, true);
  }

  DeviceBuffer<__half> decoded(n);
  for (const auto& codec : codecs) {
    // A pool of encoded Gaussian rows tiled over the matrix, as the CPU bench does: encoding
    // every row of a large matrix with a Leech codec would take minutes.
    const std::vector<uint8_t> codes = kernels::synthetic_codes(*codec, rows, cols, config.seed, config.pool_rows);
    const detail::HostLayout layout = detail::make_layout(*codec, codes.data(), codes.size(), rows, cols);
    std::vector<std::unique_ptr<DeviceMatrix::Impl>> copies;
    for (int i = rotation_sets(layout.bytes()); i > 0; --i)
      copies.push_back(std::make_unique<DeviceMatrix::Impl>(layout));
    const double bpw = 8.0 * static_cast<double>(layout.bytes()) / static_cast<double>(n);
    const double t_decode =
        time_call([&] { copies[call++ % copies.size()]->decode_half(decoded.get(), nullptr); }, config.min_seconds);
    const double t_gemv =
        time_call([&] { copies[call++ % copies.size()]->gemv(dx.get(), dy.get(), nullptr); }, config.min_seconds);
    add_row(codec->spec(), "decode-half", bpw, t_decode, false);
    add_row(codec->spec(), "fused-gemv", bpw, t_gemv, false);
    if (layout.family == detail::Family::Leech) {  // the lane-per-block variant, for comparison
      const detail::LeechGemvScope variant(detail::LeechGemv::LanePerBlock);
      const double t_block =
          time_call([&] { copies[call++ % copies.size()]->gemv(dx.get(), dy.get(), nullptr); }, config.min_seconds);
      add_row(codec->spec(), "fused-gemv-lane-per-block", bpw, t_block, false);
    }
    if (tokens > 1) {
      const double t_batch = time_call(
          [&] { copies[call++ % copies.size()]->gemm(dxt.get(), tokens, dyt.get(), nullptr); }, config.min_seconds);
      add_row(codec->spec(), "fused-gemm" + batch, bpw, t_batch, true);
    }
  }
  return report;
}

}  // namespace llvq::cuda
