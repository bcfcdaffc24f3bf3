// Internals of the per-tensor pipeline (quantize_tensor and QuantizedTensor), shared by its
// files: the row layout (body codec, padding, tail codec), the Hadamard rotations, and the row
// codecs' quantizer and stored form.
//   tensor_options.cpp   option names and checks
//   quantize_tensor.cpp  quantize_tensor: checks, rotation, the kind's quantizer
//   tensor_layout.cpp    layouts and padding
//   rotation.cpp         the randomized Hadamard transforms of W and H
//   gptq_driver.cpp      the row codecs' quantizer: GPTQ over each candidate layout
//   stored_tensor.cpp    QuantizedTensor's shared part; the choice of a kind (tensor_kind.hpp)
//   row_tensor.cpp       the row codecs' stored tensors
//   glvq_tensor.cpp      GLVQ's stored tensors
#pragma once

#include <Eigen/Core>
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

// The row codecs' quantizer: `w` and `h` in the rotated basis (h empty: the identity metric);
// every field of the result but `seconds`.
TensorQuantResult quantize_rows(const RowMatrixD& w, const Eigen::MatrixXd& h, const TensorQuantOptions& o);
// A row-codec stored tensor (not validated).
std::shared_ptr<const QuantizedTensor> make_row_tensor(TensorHeader header, std::vector<uint8_t> body_codes,
                                                       std::vector<uint8_t> tail_codes);
// The body and tail codes of `h`'s layout decoded into the padded, rotated basis, as
// Codec::decode_rows gives them.
RowMatrixD decode_codes(const TensorHeader& h, const std::vector<uint8_t>& body_codes,
                        const std::vector<uint8_t>& tail_codes, const Codec& body, const Codec* tail);

}  // namespace llvq::quant_detail
