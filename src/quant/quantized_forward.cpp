// QuantizedLinear's forward pass on the compressed codes (kernels) or on dequantized weights.
//
// The stored matrix is W_c = P·W·Qᵀ in the coded basis (Q the input transform, P the output
// transform of HadamardMode::InOut, identity otherwise), with zero columns padded after the
// body's real columns. So y = W·x = Pᵀ·(W_c·x_c) with x_c = Q·x padded the same way.
#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <cstdint>

#include "llvq/hadamard.hpp"
#include "llvq/kernels.hpp"
#include "llvq/quantized_model.hpp"

namespace llvq {

QuantizedLinear::QuantizedLinear(std::shared_ptr<const QuantizedTensor> tensor, Execution execution)
    : tensor_(std::move(tensor)) {
  const TensorHeader& t = tensor_->header();
  if (execution == Execution::Kernels) parts_ = tensor_->pack_for_kernels();
  if (parts_.empty()) {
    dense_ = std::make_unique<DenseLinear>(t.rows, t.cols, tensor_->dequantize());
    return;
  }
  if (t.hadamard != HadamardMode::None)
    in_rotation_ = std::make_unique<RandomizedHadamard>(static_cast<size_t>(t.cols), t.hadamard_seed);
  if (t.hadamard == HadamardMode::InOut)
    out_rotation_ = std::make_unique<RandomizedHadamard>(static_cast<size_t>(t.rows), t.hadamard_seed + 1);
}

QuantizedLinear::~QuantizedLinear() = default;

uint64_t QuantizedLinear::resident_bytes() const {
  if (dense_) return static_cast<uint64_t>(in_features() * out_features()) * sizeof(float);
  uint64_t bytes = 0;
  for (const auto& part : parts_) bytes += part->bytes();
  return bytes;
}

void QuantizedLinear::forward(const float* x, float* y, int64_t n_tokens) const {
  if (dense_) return dense_->forward(x, y, n_tokens);
  const std::vector<float> xc = coded_inputs(x, n_tokens);
  if (n_tokens <= fused_tokens()) {
    forward_fused(xc.data(), y, n_tokens);
  } else {
    forward_decoded(xc.data(), y, n_tokens);
  }
  if (out_rotation_)
    for (int64_t t = 0; t < n_tokens; ++t) out_rotation_->apply_transpose_float(y + t * out_features());
}

std::vector<float> QuantizedLinear::coded_inputs(const float* x, int64_t n_tokens) const {
  const TensorHeader& t = tensor_->header();
  const int64_t width = t.body_cols + t.tail_cols, body_real = t.cols - t.tail_cols;
  std::vector<float> xc(static_cast<size_t>(n_tokens * width), 0.0f);
  // The rotation costs about a tenth of a GEMV per token: a prefill window spreads it over
  // the cores, a single token keeps it on the calling thread.
#pragma omp parallel if (n_tokens > fused_tokens())
  {
    std::vector<float> rotated(static_cast<size_t>(t.cols));
#pragma omp for schedule(static)
    for (int64_t k = 0; k < n_tokens; ++k) {
      std::copy_n(x + k * t.cols, t.cols, rotated.begin());
      if (in_rotation_) in_rotation_->apply_float(rotated.data());
      float* row = xc.data() + k * width;
      std::copy_n(rotated.begin(), body_real, row);
      std::copy_n(rotated.begin() + body_real, t.tail_cols, row + t.body_cols);
    }
  }
  return xc;
}

int64_t QuantizedLinear::fused_tokens() const {
  int64_t tokens = INT64_MAX;
  for (const auto& part : parts_) tokens = std::min(tokens, part->fused_tokens());
  return tokens;
}

void QuantizedLinear::forward_fused(const float* xc, float* y, int64_t n_tokens) const {
  const TensorHeader& t = tensor_->header();
  const int64_t width = t.body_cols + t.tail_cols;
  // All tokens at once (kernels::gemm decodes each block once for the batch). The first part
  // (the body) writes y; the next (the tail) adds to it.
  kernels::gemm(*parts_.front(), xc, width, n_tokens, y);
  std::vector<float> part_out(parts_.size() > 1 ? static_cast<size_t>(n_tokens * t.rows) : 0);
  int64_t col = parts_.front()->cols();
  for (size_t p = 1; p < parts_.size(); ++p) {
    kernels::gemm(*parts_[p], xc + col, width, n_tokens, part_out.data());
    for (size_t i = 0; i < part_out.size(); ++i) y[i] += part_out[i];
    col += parts_[p]->cols();
  }
}

void QuantizedLinear::forward_decoded(const float* xc, float* y, int64_t n_tokens) const {
  using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const TensorHeader& t = tensor_->header();
  const int64_t width = t.body_cols + t.tail_cols;
  Eigen::Map<RowMat> Y(y, n_tokens, t.rows);
  const Eigen::Map<const RowMat, 0, Eigen::OuterStride<>> X(xc, n_tokens, width, Eigen::OuterStride<>(width));
  // Bands of rows small enough to stay in the core's cache (~1 MiB of floats): each is decoded
  // and multiplied right away, so the full fp32 matrix is never written to memory and read
  // back, which would cost more than the fp32 model's own weight reads.
  // At least two bands per thread, so that narrow matrices (the K/V projections) keep every
  // core busy.
  const int64_t per_thread = (t.rows + 2 * omp_get_max_threads() - 1) / (2 * omp_get_max_threads());
  const int64_t band = std::clamp<int64_t>(std::min<int64_t>((int64_t{1} << 18) / width, (per_thread + 7) / 8 * 8), 8, 512);
  const kernels::Isa isa = kernels::active_isa();
#pragma omp parallel
  {
    RowMat w;
#pragma omp for schedule(dynamic)
    for (int64_t r0 = 0; r0 < t.rows; r0 += band) {
      const int64_t n = std::min(band, t.rows - r0);
      int64_t col = 0;
      for (const auto& part : parts_) {
        w.resize(n, part->cols());
        part->decode_rows(r0, r0 + n, w.data(), isa);
        const auto x_part = X.middleCols(col, part->cols());
        if (col == 0) {
          Y.middleCols(r0, n).noalias() = x_part * w.transpose();
        } else {
          Y.middleCols(r0, n).noalias() += x_part * w.transpose();
        }
        col += part->cols();
      }
    }
  }
}

}  // namespace llvq
