// quantize_tensor: the input checked, the weights and Hessian rotated, then the quantizer of
// the codec's stored-tensor kind (tensor_kind.hpp).
#include <chrono>
#include <cmath>

#include "llvq/error.hpp"
#include "llvq/quantize.hpp"
#include "quant/pipeline_detail.hpp"
#include "quant/tensor_kind.hpp"

namespace llvq {
namespace {

void check_finite(const float* w, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (!std::isfinite(w[i])) throw InputError("weight " + std::to_string(i) + " is NaN or Inf");
}

}  // namespace

TensorQuantResult quantize_tensor(const float* w_in, int64_t rows, int64_t cols, const Eigen::MatrixXd& h_in,
                                  const TensorQuantOptions& o) {
  using namespace quant_detail;
  const auto t0 = std::chrono::steady_clock::now();
  if (rows <= 0 || cols <= 0) throw InputError("tensor shape must be positive");
  check_finite(w_in, static_cast<size_t>(rows * cols));
  if (h_in.size() && (h_in.rows() != cols || h_in.cols() != cols))
    throw InputError("Hessian is " + std::to_string(h_in.rows()) + "x" + std::to_string(h_in.cols()) + ", layer has " +
                     std::to_string(cols) + " inputs");
  check_options(o);
  const TensorKind& kind = tensor_kind(o.codec);

  RowMatrixD w(rows, cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) w(r, c) = w_in[r * cols + c];
  rotate_weight(w, o.hadamard, o.hadamard_seed, false);
  Eigen::MatrixXd h = h_in;
  if (h.size() && o.hadamard != HadamardMode::None) h = rotate_hessian(h, o.hadamard_seed);

  TensorQuantResult result = kind.quantize(w, h, o);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace llvq
