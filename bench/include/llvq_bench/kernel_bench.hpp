// The measurements behind `llvq bench gemv` and `llvq bench leech-decode`: dense fp32 and fp16
// GEMV against decode and fused decode + GEMV of each codec's kernels (llvq/kernels.hpp,
// llvq/cuda_kernels.hpp), and the Leech decode's per-stage profile. Not library API: the
// component llvq_bench, which the CLI links (docs/architecture.md). Its entry points live in
// the namespaces of what they measure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace llvq {

class Codec;

namespace kernels {

class PackedMatrix;

// One row of `llvq bench gemv` (JSON keys: codec, bpw, seconds, speedup_vs_fp32, gbytes_per_s;
// more keys may follow).
struct GemvBenchRow {
  std::string codec;    // "fp32", "fp16" or a codec spec
  std::string kernel;   // "gemv", "fused-gemv", "decode", ...
  std::string isa;      // ISA level or device
  double bpw = 0;       // bits per weight read by the kernel
  double seconds = 0;   // per call (median of repeats)
  double speedup_vs_fp32 = 0;
  double speedup_vs_fp16 = 0;  // vs the fp16 baseline (CUDA rows: cuBLAS fp16 GEMV); 0 = not measured
  double gbytes_per_s = 0;   // weight bytes read per second
  double weights_per_s = 0;
  // CUDA rows: gbytes_per_s over the device-to-device copy bandwidth of the same run (bytes read
  // plus written); 0 = not measured.
  double copy_fraction = 0;
};
struct GemvBenchConfig {
  int64_t rows = 4096, cols = 4104;
  std::vector<std::string> codecs;  // specs; empty = the default set
  int threads = 1;
  uint64_t seed = 1;
  double min_seconds = 0.3;  // per measurement
  // Distinct encoded rows tiled over the matrix (synthetic_codes). All 4096 rows of the default
  // shape: the Leech kernels' table lookups miss the caches more often on more distinct rows.
  int64_t pool_rows = 4096;
  // Inputs multiplied at once: above 1, the CPU bench adds a "gemm xT" row (fp32, gemm_f32: W
  // read once for the T tokens) and a "fused-gemm xT" row per codec (kernels::gemm), both per
  // call of T tokens; the CUDA bench cuBLAS fp32 / fp16 GEMMs with n = T and each codec's
  // DeviceMatrix gemm.
  int64_t tokens = 1;
  // Matrices of the tensor-level quantizers (GLVQ), which the kernels layer cannot make: for
  // a spec it recognises, the packed [rows, cols] matrix of a synthetic Gaussian weight matrix
  // (nullptr when that quantizer has no kernels); for any other spec, an empty optional.
  std::function<std::optional<std::unique_ptr<PackedMatrix>>(const std::string& spec, int64_t rows, int64_t cols,
                                                             uint64_t seed)>
      tensor_matrix;
};

struct GemvBenchReport {
  std::vector<GemvBenchRow> rows;
  // Codecs that were skipped, with the reason (e.g. "no kernels").
  std::vector<std::pair<std::string, std::string>> skipped;
};

// The codecs measured when GemvBenchConfig::codecs is empty.
std::vector<std::string> default_gemv_bench_codecs();

// Codes of a synthetic [rows, cols] matrix in Codec::encode_rows layout. Encoding every row
// of a large matrix takes minutes for the Leech codecs, so the codec encodes a pool of
// `pool_rows` distinct rows of i.i.d. unit Gaussian weights and the pool is repeated to
// `rows` rows. The table-driven kernels (the Leech octet tables) run faster on a small pool,
// whose blocks use fewer table entries than a real matrix's: at 4096 × 4104, 64 distinct rows
// measured ~10% faster than 4096 (0.84× against 0.75× fp32; docs/kernels-leech.md), so the
// CPU bench encodes every row by default.
std::vector<uint8_t> synthetic_codes(const Codec& codec, int64_t rows, int64_t cols, uint64_t seed,
                                     int64_t pool_rows = 64);

// `llvq bench gemv` on the CPU: dense fp32 and fp16 GEMV, then decode and fused decode + GEMV
// of each codec, all in one run at the active ISA level. Each kernel is called repeatedly (x
// refilled and y cleared before every call, outside the timing) until `min_seconds` have been
// spent and at least 3 calls were made; the row holds the median call time.
// speedup_vs_fp32 = fp32 GEMV time / this row's time.
GemvBenchReport bench_gemv(const GemvBenchConfig& config);

// `llvq bench leech-decode`, one thread: the per-stage decode profile of the split word
// (the CUDA kernels' layout) on random points of Λ24(shells), the throughput of its decode
// paths, and a packed random matrix of `codec` (fused GEMV and decode at every ISA level the
// CPU has) against the fp32 GEMV. Each figure is the fastest of repeated calls (at least 3,
// for at least min_seconds). InputError for out-of-range options or a codec without
// Leech kernels.
struct LeechDecodeBenchConfig {
  int shells = 13;
  size_t blocks = 20000;
  int64_t rows = 4096, cols = 4104;
  std::string codec = "llvq-sg:bpw=2,gain_bits=1";
  double min_seconds = 0.3;
};
struct LeechDecodeBench {
  struct Stage {
    std::string stage;
    double cumulative_ns, own_ns;  // per block
  };
  struct Path {
    std::string path;
    double weights_per_s;
  };
  struct Kernel {
    std::string kernel, isa;
    double seconds, speedup_vs_fp32, weights_per_s, bpw;
  };
  std::vector<Stage> profile;
  std::vector<Path> throughput;
  std::vector<Kernel> matrix;
};
LeechDecodeBench bench_leech_decode(const LeechDecodeBenchConfig& config);

}  // namespace kernels

namespace cuda {

// `llvq bench gemv --device cuda`: cuBLAS fp32 and fp16 GEMV, then decode to half and fused
// GEMV (fp32 x) of each codec, on one random Gaussian matrix of config.rows × config.cols
// (config.pool_rows distinct encoded rows, tiled). speedup_vs_fp32 / speedup_vs_fp16 compare
// with the cuBLAS rows. A codec whose rows cannot be config.cols long (its block does not
// divide it) is skipped with the reason. InputError when !device_available() or a codec has
// no CUDA kernels.
kernels::GemvBenchReport bench_gemv(const kernels::GemvBenchConfig& config);

}  // namespace cuda
}  // namespace llvq
