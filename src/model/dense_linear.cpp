#include <Eigen/Core>

#include "llvq/error.hpp"
#include "llvq/gguf.hpp"
#include "llvq/kernels.hpp"
#include "llvq/model.hpp"

namespace llvq {

DenseLinear::DenseLinear(int64_t out_features, int64_t in_features, std::vector<float> weight)
    : out_(out_features), in_(in_features), w_(std::move(weight)) {
  if (out_ <= 0 || in_ <= 0 || static_cast<int64_t>(w_.size()) != out_ * in_)
    throw InputError("DenseLinear: weight of " + std::to_string(w_.size()) + " values does not match shape [" +
                     std::to_string(out_) + ", " + std::to_string(in_) + "]");
}

void DenseLinear::use_q8_0(std::shared_ptr<const std::vector<uint8_t>> image, size_t offset) {
  const auto block = static_cast<int64_t>(gguf::block_size(gguf::TensorType::Q8_0));
  const auto block_bytes = static_cast<int64_t>(gguf::block_bytes(gguf::TensorType::Q8_0));
  if (!image || in_ % block != 0)
    throw InputError("DenseLinear: a Q8_0 copy needs rows of whole 32-weight blocks (in_features " +
                     std::to_string(in_) + ")");
  const auto bytes = static_cast<size_t>(out_ * (in_ / block) * block_bytes);
  if (offset > image->size() || image->size() - offset < bytes)
    throw InputError("DenseLinear: the Q8_0 copy's " + std::to_string(bytes) + " bytes run past its source");
  q8_0_ = image->data() + offset;
  q8_0_image_ = std::move(image);
}

void DenseLinear::forward(const float* x, float* y, int64_t n_tokens) const {
  if (n_tokens == 1 && q8_0_) return kernels::gemv_q8_0(q8_0_, out_, in_, x, y);
  // One token (generation): the tuned, multi-threaded GEMV of the kernels, which Eigen's
  // single-threaded GEMV would not match; the baseline the compressed kernels are held to.
  if (n_tokens == 1) return kernels::gemv_f32(w_.data(), out_, in_, x, y);
  using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<const RowMat> X(x, n_tokens, in_);
  Eigen::Map<const RowMat> W(w_.data(), out_, in_);
  Eigen::Map<RowMat> Y(y, n_tokens, out_);
  Y.noalias() = X * W.transpose();
}

}  // namespace llvq
