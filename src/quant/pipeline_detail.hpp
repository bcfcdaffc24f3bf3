// Internals of the per-tensor pipeline (quantize_tensor and QuantizedTensor), shared by its
// files: the row layout (body codec, padding, tail codec), the Hadamard rotations, decoding of
// stored codes, and GLVQ's tensor-level form.
//   tensor_options.cpp   option names and checks
//   tensor_layout.cpp    layouts and padding
//   rotation.cpp         the randomized Hadamard transforms of W and H
//   gptq_driver.cpp      quantize_tensor: GPTQ over each candidate layout, GLVQ
//   stored_tensor.cpp    QuantizedTensor: rate, validation, dequantization
#pragma once

#include <Eigen/Core>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "llvq/codec.hpp"
#include "llvq/gptq.hpp"
#include "llvq/quantize.hpp"

namespace llvq::quant_detail {

// How a row of `cols` weights is split between the body codec and an optional tail codec.
struct RowLayout {
  std::shared_ptr<const Codec> body, tail;
  int64_t body_cols = 0, tail_cols = 0;
  std::string name;
};

// The smallest row length the codec accepts: its block, or a multiple of it when the codec
// also needs whole scale groups (searched up to 64 blocks).
int64_t row_unit(const Codec& codec);
// The layouts `mode` allows for rows of `cols` weights ("exact", "pad", "tail:<codec>").
std::vector<RowLayout> candidate_layouts(const std::shared_ptr<const Codec>& codec, int64_t cols, TailMode mode);
// W and H widened with zero columns where the layout pads the body.
RowMatrixD pad_weight(const RowMatrixD& w, const RowLayout& l, int64_t cols);
Eigen::MatrixXd pad_hessian(const Eigen::MatrixXd& h, const RowLayout& l, int64_t cols);

// Applies Q to every row of w (w ← w·Qᵀ) and, for InOut, P to every column; `inverse`
// applies the transposes.
void rotate_weight(RowMatrixD& w, HadamardMode mode, uint64_t seed, bool inverse);
// H ← Q·H·Qᵀ for the input transform Q (the Hessian of the rotated inputs Q·x).
Eigen::MatrixXd rotate_hessian(const Eigen::MatrixXd& h, uint64_t seed);

// The stored codes decoded into the padded, rotated basis, as Codec::decode_rows gives them.
RowMatrixD decode_codes(const QuantizedTensor& t, const Codec& body, const Codec* tail);

// GLVQ's form: the options it accepts, and its stored form's checks (`fail` throws).
void check_glvq_options(const TensorQuantOptions& o);
using ValidationFailure = std::function<void(const std::string& message)>;
void validate_glvq(const QuantizedTensor& t, const ValidationFailure& fail);

}  // namespace llvq::quant_detail
