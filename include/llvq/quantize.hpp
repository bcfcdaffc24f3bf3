// The per-tensor quantization pipeline: incoherence processing (randomized Hadamard), the
// layout of rows whose width is not a multiple of the codec's block (padding, or a tail
// coded by a smaller codec of the same rate), Hessian-aware rounding (RTN, GPTQ/LDLQ with
// block feedback, Spherical GPTQ) through any codec of the codec interface, and the stored
// form of the result.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <optional>

#include "llvq/glvq.hpp"
#include "llvq/gptq.hpp"

namespace llvq {

enum class Rounding { Rtn, Gptq, SphericalGptq };
enum class HadamardMode { None, In, InOut };
// Pad: zero-pad each row to a multiple of the block. Codec: code the last cols % block
// columns with a smaller codec of the same rate (E8P for multiples of 8, scalar otherwise).
// Auto: quantize both ways and keep the one with the better quality per true bit.
enum class TailMode { Auto, Pad, Codec };

std::string to_string(Rounding r);
std::string to_string(HadamardMode h);
std::string to_string(TailMode t);
Rounding parse_rounding(const std::string& s);        // rtn | gptq | spherical-gptq
HadamardMode parse_hadamard(const std::string& s);    // none | in | inout
TailMode parse_tail(const std::string& s);            // auto | pad | codec

// Whether `spec` names the tensor-level GLVQ quantizer ("glvq" or "glvq:key=value,...").
bool is_glvq_spec(const std::string& spec);
// The canonical spec of any codec the pipeline accepts (per-row codecs and GLVQ); InputError
// on a bad spec.
std::string canonical_codec_spec(const std::string& spec);

struct TensorQuantOptions {
  std::string codec = "llvq-sg";  // a per-row codec spec, or a GLVQ spec
  // GLVQ accepts only Gptq (the default, standing for "Hessian-aware": GLVQ learns its own
  // G in the Hessian metric) and pads instead of coding a tail: Rtn, SphericalGptq and
  // TailMode::Codec are rejected for it.
  Rounding rounding = Rounding::Gptq;
  HadamardMode hadamard = HadamardMode::In;
  TailMode tail = TailMode::Auto;
  uint64_t hadamard_seed = 0;  // input transform; the output transform uses hadamard_seed + 1
  double damp = 0.01;          // GPTQ damping, fraction of the mean Hessian diagonal
  double scale_damp = 1e-3;    // ridge λ of Spherical GPTQ's scale solve
};

// A quantized matrix in its stored form.
struct QuantizedTensor {
  int64_t rows = 0, cols = 0;  // the original shape [out, in]
  std::string codec;           // canonical spec of the codec of the row body
  int64_t body_cols = 0;       // columns coded by `codec`, zero padding included
  std::string tail_codec;      // canonical spec of the tail codec; empty when there is no tail
  int64_t tail_cols = 0;
  std::vector<uint8_t> body_codes;  // rows back to back, rows · row_bits(body_cols) bits
  std::vector<uint8_t> tail_codes;
  HadamardMode hadamard = HadamardMode::None;
  uint64_t hadamard_seed = 0;
  // GLVQ (codec "glvq:..."): the whole tensor in GLVQ's stored form, in the rotated basis.
  // Then body_cols is the width padded to a multiple of D, there is no tail and body_codes
  // is empty.
  std::optional<GlvqTensor> glvq;

  bool is_glvq() const { return glvq.has_value(); }
  int64_t padding() const { return body_cols + tail_cols - cols; }
  // Exact payload bits: every row's codes and side information (scales) of both codecs.
  uint64_t payload_bits() const;
  double bits_per_weight() const;
  // Blocks the codecs coded (each codec's own block: 24 weights for the Leech codecs, D for
  // GLVQ), padding included: the unit of the encoders' throughput.
  uint64_t blocks() const;
  // Checks every field for consistency (codec specs, sizes of the code buffers; for GLVQ
  // everything GlvqTensor::from_blobs checks);
  // throws InputError naming `what` — used after reading a file.
  void validate(const std::string& what) const;
  // The weights [rows, cols] in the original basis.
  std::vector<float> dequantize() const;
};

struct TensorQuantResult {
  QuantizedTensor tensor;
  double weighted_error = 0;  // tr(ΔW·H·ΔWᵀ) / tr(W·H·Wᵀ) on the calibration Hessian
  // GLVQ only: the same error with GLVQ's initial G, μ (before learning); NaN otherwise.
  double weighted_error_init = std::numeric_limits<double>::quiet_NaN();
  std::string layout;         // "exact", "pad", or "tail:<codec>"
  double seconds = 0;
};

// InputError when the codec spec is bad or the options do not apply to the codec (see
// TensorQuantOptions for GLVQ); quantize_tensor checks this too, before any work.
void check_options(const TensorQuantOptions& options);

// Quantizes W [rows, cols] (row-major fp32). `h` is the input Hessian [cols, cols]; an empty
// matrix stands for the identity (no calibration data: GPTQ then reduces to RTN).
TensorQuantResult quantize_tensor(const float* w, int64_t rows, int64_t cols, const Eigen::MatrixXd& h,
                                  const TensorQuantOptions& options);

}  // namespace llvq
