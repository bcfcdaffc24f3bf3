// The steps every rate-distortion run shares (rd.cpp), for the stored-tensor kinds that run
// their own quantizer in it (tensor_kind.hpp: TensorKind::measure_rd).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "llvq/rd.hpp"
#include "llvq/report.hpp"

namespace llvq::quant_detail {

// InputError unless 1 <= blocks <= 2^30 and 1 <= row_wanted <= 2^20 (the CLI's ranges).
void check_size(size_t blocks, size_t row_wanted);

// The run's samples of `source` seeded by `seed`: `rows` rows of n values, row-major (each row
// from its own stream, so the values do not depend on the thread count).
std::vector<float> source_rows(const RdSource& source, uint64_t seed, size_t rows, size_t n);

// Decoding is much faster than encoding: runs `decode` until the timing is meaningful, and
// returns the seconds of all `decodes` runs.
template <class Decode>
double time_decodes(const Decode& decode, size_t& decodes) {
  const auto t0 = std::chrono::steady_clock::now();
  double seconds = 0;
  do {
    decode();
    ++decodes;
    seconds = seconds_since(t0);
  } while (seconds < 0.25);
  return seconds;
}

// MSE, SQNR, retention, the Shannon MSE at the measured rate and the throughputs of a run
// whose rate and block count are already in `r`.
void set_distortion(RdResult& r, const std::vector<float>& w, const std::vector<float>& back, double t_encode,
                    double t_decode, size_t decodes);

}  // namespace llvq::quant_detail
