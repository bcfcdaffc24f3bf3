// The measurements behind `llvq rd` and `llvq bench codec`: synthetic (or model-weight)
// sources, and the rate, distortion and throughput of a codec coding them.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "llvq/codec.hpp"

namespace llvq::cli {

// A unit-variance i.i.d. source. Each row draws from its own generator seeded from (seed,
// row), so the data does not depend on the number of threads.
struct Source {
  enum Kind { kGaussian, kLaplace, kStudent, kModel } kind = kGaussian;
  double nu = 4;
  std::string label;
  // kModel: the weights of every linear layer (or of one tensor), each matrix row scaled to
  // unit RMS, concatenated; row r of the run is the slice starting at r·n (cycling).
  std::shared_ptr<std::vector<float>> weights;

  // "gaussian", "laplace", "student[:nu=V]" or "model:PATH[:TENSOR]"; InputError otherwise.
  static Source parse(const std::string& text);
  static Source from_model(const std::string& text);  // "model:PATH[:TENSOR]"
  // The n values of row `row` of the run seeded by `seed`.
  void fill_row(uint64_t seed, size_t row, float* out, size_t n) const;
};

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

// Codes about `blocks` blocks of `source` in rows of about `row_wanted` weights (the nearest
// length the codec takes) and measures the rate, distortion and throughputs.
RdResult measure(const Codec& codec, const Source& source, size_t blocks, uint64_t seed, size_t row_wanted);

// The same for a GLVQ spec (a tensor-level quantizer, run with H = I and learning off).
RdResult measure_glvq(const std::string& spec, const Source& source, size_t blocks, uint64_t seed, size_t row_wanted);

}  // namespace llvq::cli
