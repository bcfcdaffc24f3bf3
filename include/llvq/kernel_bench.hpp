// `llvq bench gemv` on the CPU: dense fp32 and fp16 GEMV, then decode and fused decode + GEMV
// of each codec, all in one run at the active ISA level (llvq/kernels.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "llvq/kernels.hpp"

namespace llvq {

class Codec;

namespace kernels {

struct GemvBenchReport {
  std::vector<GemvBenchRow> rows;
  // Codecs that were skipped, with the reason (e.g. "no kernels").
  std::vector<std::pair<std::string, std::string>> skipped;
};

// The codecs measured when GemvBenchConfig::codecs is empty.
std::vector<std::string> default_gemv_bench_codecs();

// Codes of a synthetic [rows, cols] matrix in Codec::encode_rows layout. Encoding every row
// would take minutes for the Leech codecs, so the codec encodes a pool of `pool_rows`
// distinct rows of i.i.d. unit Gaussian weights and the pool is repeated to `rows` rows.
// Decode and GEMV time does not depend on which valid codes they read, so the tiling does not
// change the measurement.
std::vector<uint8_t> synthetic_codes(const Codec& codec, int64_t rows, int64_t cols, uint64_t seed,
                                     int64_t pool_rows = 64);

// Each kernel is called repeatedly (x refilled and y cleared before every call, outside the
// timing) until `min_seconds` have been spent and at least 3 calls were made; the row holds
// the median call time. speedup_vs_fp32 = fp32 GEMV time / this row's time.
GemvBenchReport bench_gemv(const GemvBenchConfig& config);

}  // namespace kernels
}  // namespace llvq
