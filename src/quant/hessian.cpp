#include <Eigen/Core>

#include "llvq/error.hpp"
#include "llvq/gptq.hpp"

namespace llvq {

HessianAccumulator::HessianAccumulator(size_t dim) : dim_(dim), xtx_(Eigen::MatrixXd::Zero(dim, dim)) {
  if (dim == 0) throw InputError("Hessian of a layer with no inputs");
}

void HessianAccumulator::add(const float* x, size_t n_rows) {
  using RowMatF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::Map<const RowMatF> xf(x, static_cast<Eigen::Index>(n_rows), static_cast<Eigen::Index>(dim_));
  // XᵀX of this batch as a float GEMM (Eigen runs it on every core; a batch is at most a
  // window of tokens, so float's rounding stays far below GPTQ's damping), summed in double
  // across batches.
  Eigen::MatrixXf batch(dim_, dim_);
  batch.noalias() = xf.transpose() * xf;
  xtx_ += batch.cast<double>();
  count_ += n_rows;
}

Eigen::MatrixXd HessianAccumulator::hessian() const {
  if (count_ == 0) throw InputError("Hessian requested before any calibration input was seen");
  return xtx_ / static_cast<double>(count_);
}

}  // namespace llvq
