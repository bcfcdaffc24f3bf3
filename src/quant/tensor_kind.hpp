// The kinds of stored tensor (llvq/quantize.hpp): what the pipeline, the GGUF reader, the
// front ends' shared steps and `rd` need to know of a quantizer, behind one interface, so that
// none of them asks which kind it has. A codec spec selects its kind once (tensor_kind), where
// a tensor is produced or read.
//   row_tensor.cpp    the row codecs: body and tail codes, GPTQ over row layouts (gptq_driver.cpp)
//   glvq_tensor.cpp   GLVQ: one tensor-level form with learned generation matrices
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "llvq/gguf.hpp"
#include "llvq/quantize.hpp"
#include "llvq/rd.hpp"

namespace llvq::quant_detail {

// One kind of stored tensor: its quantizer, and how its tensors are made, found and read.
class TensorKind {
 public:
  virtual ~TensorKind() = default;

  // Whether `spec` names a quantizer of this kind (by its form; the spec may still be bad).
  virtual bool accepts(const std::string& spec) const = 0;
  // The kind's name in messages.
  virtual std::string name() const = 0;
  // InputError on a bad spec.
  virtual std::string canonical_spec(const std::string& spec) const = 0;

  // Whether the kind takes TensorQuantOptions::rounding (see llvq::takes_rounding), and what
  // a run records as its rounding.
  virtual bool takes_rounding() const = 0;
  virtual std::string rounding_label(Rounding rounding) const = 0;
  // InputError for an option the kind does not take (the spec is already valid).
  virtual void check_options(const TensorQuantOptions& options) const = 0;

  // Quantizes `w` [rows, cols], already in the rotated basis of options.hadamard, in the
  // metric `h` (the rotated calibration Hessian; empty: none, the identity). Fills every field
  // of the result but `seconds`.
  virtual TensorQuantResult quantize(const RowMatrixD& w, const Eigen::MatrixXd& h,
                                     const TensorQuantOptions& options) const = 0;

  // The tensor from its header and code blobs. May throw InputError when the blobs cannot form
  // a tensor at all; the consistency of the whole is validate()'s to check.
  virtual std::shared_ptr<const QuantizedTensor> from_blobs(TensorHeader header, CodeBlobs blobs) const = 0;
  // GGUF: whether the file stores layer `name` in this kind's form, and the tensor read from it
  // (its header read already; not yet validated). `what` names the tensor in messages.
  virtual bool present_in(const gguf::File& f, const std::string& name) const = 0;
  virtual std::shared_ptr<const QuantizedTensor> read_gguf(const gguf::File& f, const std::string& name,
                                                           TensorHeader header, const std::string& what) const = 0;

  // `llvq rd` on this kind's quantizer (llvq/rd.hpp: measure_rd of a spec).
  virtual RdResult measure_rd(const std::string& spec, const RdSource& source, size_t blocks, uint64_t seed,
                              size_t row_wanted) const = 0;
};

// The registered kinds (row_tensor.cpp, glvq_tensor.cpp).
const TensorKind& row_codec_kind();
const TensorKind& glvq_kind();

// The kind of `spec`: GLVQ's for "glvq[:...]", the row codecs' for every other spec.
const TensorKind& tensor_kind(const std::string& spec);
// Whether any kind finds layer `name` stored in the file.
bool stored_in(const gguf::File& f, const std::string& name);

// The I8 tensor `name` of the file as bytes; InputError unless it is a 1-D I8 tensor.
std::vector<uint8_t> read_blob(const gguf::File& f, const std::string& name);

}  // namespace llvq::quant_detail
