// Hessian-aware rounding: calibration statistics and GPTQ/LDLQ with block feedback.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <vector>

namespace llvq {

using RowMatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// H = XᵀX / N of a layer's inputs, accumulated in double precision while streaming: memory is
// dim², independent of the number of calibration tokens N.
class HessianAccumulator {
 public:
  explicit HessianAccumulator(size_t dim);
  // Adds n_rows input vectors (row-major [n_rows, dim]).
  void add(const float* x, size_t n_rows);
  size_t dim() const { return dim_; }
  uint64_t count() const { return count_; }
  Eigen::MatrixXd hessian() const;

 private:
  size_t dim_;
  uint64_t count_ = 0;
  Eigen::MatrixXd xtx_;  // Σ xᵀx, its upper triangle (hessian() mirrors it)
};

// Quantizes row[col0 .. col0+width) of row `row`: `current` is the whole current row (cols
// values, error feedback applied), so a codec can fit a group scale when a group starts;
// the dequantized block goes to `out` (width values).
using BlockRounder =
    std::function<void(size_t row, size_t col0, size_t width, const double* current, float* out)>;

struct GptqOptions {
  double damp = 0.01;   // λ as a fraction of the mean diagonal of H
  size_t block = 24;    // columns quantized jointly (the codec's block dimension)
  // Optional explicit block widths (summing to the column count) for rows coded by more than
  // one codec, e.g. 24-wide lattice blocks followed by an 8-wide E8P tail; overrides `block`.
  std::vector<size_t> blocks;
  size_t lazy = 192;    // columns per lazy-batch update (batches end on block boundaries)
};

struct GptqResult {
  RowMatrixD quantized;   // [rows, cols] dequantized weights
  int dead_columns = 0;   // columns whose Hessian diagonal was zero (weights there set to 0)
};

// GPTQ with vector blocks (block LDLQ): with H⁻¹ = UᵀU (U upper triangular), each block's
// error e = (w_B − q_B)·U_BB⁻¹ is pushed onto the remaining columns as w ← w − e·U_B,rest.
// With block = 1 this is the textbook GPTQ algorithm. Rows run in parallel (OpenMP).
GptqResult gptq_quantize(const RowMatrixD& w, const Eigen::MatrixXd& h, const GptqOptions& options,
                         const BlockRounder& rounder);

// Spherical GPTQ's last step: per-row, per-group multiplicative scales s minimising
// (w − Σ_g s_g·q_g)·H·(w − Σ_g s_g·q_g)ᵀ for each row (q_g = the row's group g of Q, zero
// elsewhere), ridge-damped towards 1 by λ·diag of the normal matrix. Groups are the column
// ranges [bounds[g], bounds[g+1]) (bounds from 0 to cols). Returns [rows, groups].
RowMatrixD solve_partition_scales(const RowMatrixD& w, const RowMatrixD& q, const Eigen::MatrixXd& h,
                                  const std::vector<Eigen::Index>& bounds, double lambda);
// The same with equal groups of `group` columns.
RowMatrixD solve_group_scales(const RowMatrixD& w, const RowMatrixD& q, const Eigen::MatrixXd& h, size_t group,
                              double lambda);

// tr((W−Q)·H·(W−Q)ᵀ) / tr(W·H·Wᵀ): the relative output error on the calibration inputs.
double relative_weighted_error(const RowMatrixD& w, const RowMatrixD& q, const Eigen::MatrixXd& h);

}  // namespace llvq
