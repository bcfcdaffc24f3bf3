// `llvq rd` as library functions: the rate, distortion and throughput of a codec coding a
// synthetic (or model-weight) source, so that the CLI (`llvq rd`, `llvq bench codec`) and the
// Python bindings (llvq.rd) measure the same way and print the same JSON. They live in the
// quantization layer because GLVQ specs and model sources need it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "llvq/codec.hpp"

namespace llvq {

// A unit-variance i.i.d. source. Each row draws from its own generator seeded from (seed,
// row), so the data does not depend on the number of threads.
struct RdSource {
  enum Kind { kGaussian, kLaplace, kStudent, kModel } kind = kGaussian;
  double nu = 4;
  std::string label;
  // kModel: the weights of every linear layer (or of one tensor), each matrix row scaled to
  // unit RMS, concatenated; row r of the run is the slice starting at r·n (cycling).
  std::shared_ptr<std::vector<float>> weights;

  // "gaussian", "laplace", "student[:nu=V]" or "model:PATH[:TENSOR]"; InputError otherwise.
  static RdSource parse(const std::string& text);
};

struct RdResult {
  std::string codec;
  size_t blocks = 0, row = 0;
  double bpw = 0, mse = 0, sqnr_bits = 0, retention = 0, shannon_mse = 0;
  double encode_blocks_per_s = 0, decode_blocks_per_s = 0;
  int threads = 1;

  // What `llvq rd --json` prints for one codec: codec, bpw, mse, sqnr_bits, retention,
  // shannon_mse, encode/decode_blocks_per_s (and _per_core), threads, blocks, row.
  nlohmann::json json() const;
};

// Codes about `blocks` blocks of `source` in rows of about `row_wanted` weights (the nearest
// length the codec takes) and measures the rate, distortion and throughputs. InputError
// unless 1 <= blocks <= 2^30 and 1 <= row_wanted <= 2^20 (the CLI's ranges).
RdResult measure_rd(const Codec& codec, const RdSource& source, size_t blocks, uint64_t seed, size_t row_wanted);

// The same for any spec: a row codec, or a GLVQ spec (a tensor-level quantizer, run with
// H = I and learning off).
RdResult measure_rd(const std::string& spec, const RdSource& source, size_t blocks, uint64_t seed, size_t row_wanted);

// `llvq rd --table`: the paper's Gaussian 2-bpw table (docs/background.md §1), each row
// measured by its codec spec; a codec not available in this build gives its row an error
// instead of failing the table.
struct RdTableRow {
  std::string method, spec;
  double paper_mse = 0;            // NaN: no published figure
  std::optional<RdResult> result;  // none when the codec is not available in this build
  std::string error;               // why it is not

  // {method, paper_mse (null when NaN)} and the result's keys, or "error".
  nlohmann::json json() const;
};
std::vector<RdTableRow> measure_rd_table(const RdSource& source, size_t blocks, uint64_t seed, size_t row_wanted);

}  // namespace llvq
