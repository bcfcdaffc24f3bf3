// l24sq: the spherical Leech quantizer of visual tokenizers — the 196,560 minimal vectors
// normalised to the unit sphere, 18 bits per 24-vector — searched with the structured
// angular search of shell 2 (no 196,560×24 product). As a weight codec it is shape–gain
// with a per-row scale and 0 gain bits by default; l24sq_encode/l24sq_decode give the
// tokenizer view (codes of many vectors at once).
#include "llvq/l24sq.hpp"

#include <omp.h>

#include "codec/leech_shape_gain.hpp"

namespace llvq {

namespace codec_detail {
namespace {

class L24sq final : public LeechShapeGain {
 public:
  using LeechShapeGain::LeechShapeGain;
  std::string name() const override { return "l24sq"; }
  std::string spec() const override { return "l24sq:gain_bits=" + std::to_string(gain_bits()) + group_param(); }
};

}  // namespace

std::unique_ptr<Codec> make_l24sq(const CodecSpec& spec) {
  const int gain_bits = spec.get_int("gain_bits", 0, 0, 4);
  const int group = spec.get_int("group", 0, 0, 1 << 24);
  return std::make_unique<L24sq>(2, 2, gain_bits, static_cast<size_t>(group));
}

}  // namespace codec_detail

std::vector<uint32_t> l24sq_encode(const float* x, size_t count) {
  const LeechBall& ball = LeechBall::get(2);
  std::vector<uint32_t> codes(count);
#pragma omp parallel for schedule(dynamic, 256)
  for (int64_t i = 0; i < static_cast<int64_t>(count); ++i)
    codes[i] = static_cast<uint32_t>(ball.search_angular(x + 24 * i, 2, 2).index - 1);
  return codes;
}

void l24sq_decode(const uint32_t* codes, size_t count, float* out) {
  const LeechBall& ball = LeechBall::get(2);
  for (size_t i = 0; i < count; ++i)
    if (codes[i] >= kL24sqCodebookSize) throw InputError("l24sq: code " + std::to_string(codes[i]) + " out of range");
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < static_cast<int64_t>(count); ++i) {
    const leech::Vec v = ball.unrank(codes[i] + uint64_t{1});
    for (int k = 0; k < 24; ++k) out[24 * i + k] = static_cast<float>(v[k] / std::sqrt(32.0));  // |v|² = 32
  }
}

}  // namespace llvq
