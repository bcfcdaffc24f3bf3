#include <Eigen/Core>
#include <utility>
#include <vector>

#include "llvq/error.hpp"
#include "llvq/gptq.hpp"

namespace llvq {
namespace {

// Column band width of the blocked XᵀX: bands this wide keep each block product cache-sized
// and leave enough blocks (d(d+1)/2 for d bands) to share among the cores.
constexpr size_t kBand = 256;

}  // namespace

HessianAccumulator::HessianAccumulator(size_t dim) : dim_(dim), xtx_(Eigen::MatrixXd::Zero(dim, dim)) {
  if (dim == 0) throw InputError("Hessian of a layer with no inputs");
}

void HessianAccumulator::add(const float* x, size_t n_rows) {
  using RowMatF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const auto n = static_cast<Eigen::Index>(n_rows);
  const Eigen::Map<const RowMatF> xf(x, n, static_cast<Eigen::Index>(dim_));
  // XᵀX of this batch as float GEMMs over column bands (a batch is at most a window of
  // tokens, so float's rounding stays far below GPTQ's damping), summed in double across
  // batches. Only the upper triangle is computed — the blocks above the diagonal and the
  // upper halves of the diagonal blocks; hessian() mirrors it — and each block is one
  // single-threaded product, the blocks spread over the cores: on 576- and 1536-wide inputs
  // this runs 2–4× faster than one multi-threaded GEMM of the whole product.
  const size_t bands = (dim_ + kBand - 1) / kBand;
  std::vector<std::pair<size_t, size_t>> blocks;
  for (size_t i = 0; i < bands; ++i)
    for (size_t j = i; j < bands; ++j) blocks.emplace_back(i, j);
  auto start = [&](size_t b) { return static_cast<Eigen::Index>(dim_ * b / bands); };
#pragma omp parallel for schedule(dynamic) if (blocks.size() > 1)
  for (size_t k = 0; k < blocks.size(); ++k) {
    const auto [i, j] = blocks[k];
    const Eigen::Index r0 = start(i), rn = start(i + 1) - r0, c0 = start(j), cn = start(j + 1) - c0;
    Eigen::MatrixXf block(rn, cn);
    if (i == j) {
      // A diagonal block is symmetric: a rank update fills its upper triangle for half a GEMM.
      block.setZero();
      block.selfadjointView<Eigen::Upper>().rankUpdate(xf.middleCols(r0, rn).transpose());
    } else {
      block.noalias() = xf.middleCols(r0, rn).transpose() * xf.middleCols(c0, cn);
    }
    xtx_.block(r0, c0, rn, cn) += block.cast<double>();
  }
  count_ += n_rows;
}

Eigen::MatrixXd HessianAccumulator::hessian() const {
  if (count_ == 0) throw InputError("Hessian requested before any calibration input was seen");
  Eigen::MatrixXd h = xtx_ / static_cast<double>(count_);
  h.triangularView<Eigen::StrictlyLower>() = h.transpose();
  return h;
}

}  // namespace llvq
