// The per-tensor quantization pipeline: incoherence processing (randomized Hadamard), the
// layout of rows whose width is not a multiple of the codec's block (padding, or a tail
// coded by a smaller codec of the same rate), Hessian-aware rounding (RTN, GPTQ/LDLQ with
// block feedback, Spherical GPTQ) through any codec of the codec interface, and the stored
// form of the result.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "llvq/gptq.hpp"
#include "llvq/kernels.hpp"

namespace llvq {

namespace gguf {
class Writer;
}

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

// The canonical spec of any codec the pipeline accepts (per-row codecs and GLVQ); InputError
// on a bad spec.
std::string canonical_codec_spec(const std::string& spec);
// Whether the quantizer `spec` names takes TensorQuantOptions::rounding. The row codecs do;
// GLVQ does not: its learning in the Hessian metric is its rounding, so it runs once per spec
// with the option at its default, and needs no calibration to stay what it is. The spec is
// not validated (canonical_codec_spec does that).
bool takes_rounding(const std::string& spec);

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

// What every stored tensor records besides its codes: the keys llvq.t.N.* of a file.
struct TensorHeader {
  int64_t rows = 0, cols = 0;  // the original shape [out, in]
  std::string codec;           // canonical spec of the body's codec (GLVQ: of the whole tensor)
  // The coded basis: `body_cols` columns coded by `codec`, zero padding included, then
  // `tail_cols` columns coded by `tail_codec` (empty when there is no tail). GLVQ pads to a
  // multiple of its dimension D and has no tail.
  int64_t body_cols = 0;
  std::string tail_codec;
  int64_t tail_cols = 0;
  HadamardMode hadamard = HadamardMode::None;
  uint64_t hadamard_seed = 0;

  int64_t padding() const { return body_cols + tail_cols - cols; }
};

// A tensor's codes as named byte blobs, the form a file stores them in: a row codec's "body"
// and "tail" (rows back to back, Codec::encode_rows), GLVQ's "g", "mu", ... (GlvqTensor).
using CodeBlobs = std::vector<std::pair<std::string, std::vector<uint8_t>>>;

// A quantized matrix in its stored form. Two kinds implement it, chosen by the codec spec
// where a tensor is produced (quantize_tensor) or read (make_quantized_tensor, the GGUF
// reader): row-codec tensors (a row codec over the body, another over the tail) and GLVQ's
// tensor-level form (src/quant/row_tensor.cpp, glvq_tensor.cpp). Immutable, so layers share it.
class QuantizedTensor {
 public:
  virtual ~QuantizedTensor() = default;
  QuantizedTensor(const QuantizedTensor&) = delete;
  QuantizedTensor& operator=(const QuantizedTensor&) = delete;

  const TensorHeader& header() const { return header_; }
  // Exact payload bits: every code and all side information (scales, GLVQ's G, μ, ...).
  virtual uint64_t payload_bits() const = 0;
  double bits_per_weight() const;
  // Blocks the codecs coded (each codec's own block: 24 weights for the Leech codecs, D for
  // GLVQ), padding included: the unit of the encoders' throughput.
  virtual uint64_t blocks() const = 0;
  // Checks the header against the codes (codec specs, column layout, sizes, everything the
  // kind's deserialiser checks); throws InputError naming `what`. Used after reading a file.
  virtual void validate(const std::string& what) const = 0;
  // The weights [rows, cols] in the original basis.
  std::vector<float> dequantize() const;
  // The codes, by name: with the header, everything that decodes the tensor (a file's
  // checksum covers both).
  virtual CodeBlobs code_blobs() const = 0;
  // Adds the codes to a GGUF file as the I8 tensors of layer `name` (quantized_model.hpp).
  virtual void write_codes(gguf::Writer& w, const std::string& name) const = 0;
  // The codes in the kernels' layout: one packed matrix per part of the coded basis (body,
  // then tail), or none when some part's codec has no kernels.
  virtual std::vector<std::unique_ptr<kernels::PackedMatrix>> pack_for_kernels() const = 0;

 protected:
  explicit QuantizedTensor(TensorHeader header) : header_(std::move(header)) {}

 private:
  // The weights [rows, cols] in the coded basis, padding removed.
  virtual RowMatrixD decode() const = 0;

  TensorHeader header_;
};

// The tensor `header` describes, of the kind its codec names, from its codes (code_blobs());
// InputError naming `what` unless it passes validate().
std::shared_ptr<const QuantizedTensor> make_quantized_tensor(TensorHeader header, CodeBlobs blobs,
                                                             const std::string& what);

struct TensorQuantResult {
  std::shared_ptr<const QuantizedTensor> tensor;
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
