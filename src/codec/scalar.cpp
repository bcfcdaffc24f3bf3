// Scalar (RTN-style) baselines: each weight independently to one of 2^bpw levels designed
// for a unit Gaussian — Lloyd–Max levels or the MSE-optimal uniform step — times the
// group's scale (its RMS, bfloat16).
#include <cmath>

#include "codec/codec_impl.hpp"
#include "codec/gain.hpp"
#include "llvq/error.hpp"

namespace llvq::codec_detail {

namespace {

class ScalarCodec final : public ScaledCodec {
 public:
  ScalarCodec(int bits, std::string kind, size_t group) : ScaledCodec(group, 1.0), bits_(bits), kind_(std::move(kind)) {
    const int levels = 1 << bits;
    const double range = 12;
    q_ = kind_ == "lloyd" ? lloyd_max(gaussian_pdf, -range, range, levels)
                          : best_uniform(gaussian_pdf, -range, range, levels, 0.0);
    check_group();
  }

  std::string name() const override { return "scalar"; }
  std::string spec() const override {
    return "scalar:bpw=" + std::to_string(bits_) + ",kind=" + kind_ + group_param();
  }
  size_t block_dim() const override { return 1; }
  size_t block_bits() const override { return static_cast<size_t>(bits_); }
  KernelLayout kernel_layout() const override { return ScalarLayout{bits_, group_, q_.levels}; }

  void quantize_block(const RowSide& side, size_t j, const float* x, float* xhat, BitWriter& code) const override {
    const int k = quantize(side.scale_of_block(j, 1), x[0], xhat);
    code.put(static_cast<uint64_t>(k), bits_);
  }
  void quantize_dequantize_block(const RowSide& side, size_t j, const float* x, float* xhat) const override {
    quantize(side.scale_of_block(j, 1), x[0], xhat);
  }
  void decode_block(const RowSide& side, size_t j, BitReader& code, float* xhat) const override {
    const auto k = code.get(bits_);  // every bits_-bit value is a valid level
    xhat[0] = static_cast<float>(q_.levels[k] * side.scale_of_block(j, 1));
  }

 private:
  int quantize(float scale, float x, float* xhat) const {
    const int k = q_.index(scale > 0 ? x / scale : 0.0);
    xhat[0] = static_cast<float>(q_.levels[k] * scale);
    return k;
  }

  int bits_;
  std::string kind_;
  ScalarQuantizer q_;
};

}  // namespace

std::unique_ptr<Codec> make_scalar(const CodecSpec& spec) {
  const int bits = spec.get_int("bpw", 2, 1, 8);
  const std::string kind = spec.get_choice("kind", "lloyd", {"uniform", "lloyd"});
  const int group = spec.get_int("group", 0, 0, 1 << 24);
  return std::make_unique<ScalarCodec>(bits, kind, static_cast<size_t>(group));
}

}  // namespace llvq::codec_detail
