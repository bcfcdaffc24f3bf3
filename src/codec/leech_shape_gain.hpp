// Shape–gain coding of 24-weight blocks on the Leech lattice, shared by llvq-sg (shells
// 2..M) and l24sq (shell 2 only). Block code = gain index (gain_bits) | ball index of the
// direction (LeechBall::bits()). The row scale σ is its RMS (bfloat16 side information);
// a block u = x/σ is coded as the lattice point v maximising ⟨u,v⟩/|v| and the gain level
// nearest to ⟨u,v̂⟩, and decodes to σ·level·v̂.
#pragma once

#include <cmath>
#include <map>
#include <mutex>
#include <string>

#include "codec/codec_impl.hpp"
#include "codec/gain.hpp"
#include "llvq/error.hpp"
#include "llvq/leech_ball.hpp"

namespace llvq::codec_detail {

// The decoded block of a shape–gain code: σ·level·v/|v|, given σ·level.
inline void shape_gain_block(double scaled_level, const leech::Vec& v, float* xhat) {
  const double f = scaled_level / std::sqrt(static_cast<double>(leech::norm2(v)));
  for (int i = 0; i < 24; ++i) xhat[i] = static_cast<float>(f * v[i]);
}

// The design of the gain levels needs the mean cosine of the codec's direction search; a few
// hundred seeded blocks pin it to ~1e-3, which moves the MSE by far less than that. It
// depends only on the direction codebook, named by `key`, so it is computed once per key.
inline double cached_design_cosine(const std::string& key, const std::function<double(const float*)>& cosine) {
  static std::mutex mutex;
  static std::map<std::string, double> cache;
  const std::lock_guard<std::mutex> lock(mutex);
  if (const auto it = cache.find(key); it != cache.end()) return it->second;
  return cache[key] = mean_cosine(24, 256, cosine);
}

class LeechShapeGain : public ScaledCodec {
 public:
  LeechShapeGain(int min_shell, int max_shell, int gain_bits, size_t group)
      : ScaledCodec(group, 1.0),
        min_shell_(min_shell),
        max_shell_(max_shell),
        gain_bits_(gain_bits),
        ball_(LeechBall::get(max_shell)) {
    gain_ = shape_gain_levels(24, 1 << gain_bits, design_cosine());
  }

  size_t block_dim() const override { return 24; }
  size_t block_bits() const override { return static_cast<size_t>(gain_bits_ + ball_.bits()); }
  int max_shell() const { return max_shell_; }
  int gain_bits() const { return gain_bits_; }
  KernelLayout kernel_layout() const override {
    LeechLayout l;
    l.kind = LeechLayout::Kind::ShapeGain;
    l.family = name();
    l.min_shell = min_shell_;
    l.max_shell = max_shell_;
    l.gain_bits = gain_bits_;
    l.gain_levels = gain_.levels;
    l.group = group_;
    return l;
  }

  void quantize_block(const RowSide& side, size_t j, const float* x, float* xhat, BitWriter& code) const override {
    uint64_t index = 0;
    const int g = quantize(side.scale_of_block(j, 24), x, xhat, &index);
    code.put(static_cast<uint64_t>(g), gain_bits_);
    code.put(index, ball_.bits());
  }
  void quantize_dequantize_block(const RowSide& side, size_t j, const float* x, float* xhat) const override {
    quantize(side.scale_of_block(j, 24), x, xhat, nullptr);
  }
  void decode_block(const RowSide& side, size_t j, BitReader& code, float* xhat) const override {
    const int g = static_cast<int>(code.get(gain_bits_));
    const uint64_t index = code.get(ball_.bits());
    if (index < ball_.shell_offset(min_shell_)) throw InputError(name() + ": corrupt code (not a direction)");
    reconstruct(side.scale_of_block(j, 24), g, ball_.unrank(index), xhat);  // unrank rejects index ≥ size
  }

 private:
  double design_cosine() const {
    return cached_design_cosine("shells " + std::to_string(min_shell_) + ".." + std::to_string(max_shell_),
                                [this](const float* x) {
                                  double xx = 0;
                                  for (int i = 0; i < 24; ++i) xx += x[i] * x[i];
                                  return ball_.search_angular(x, min_shell_, max_shell_).score / std::sqrt(xx);
                                });
  }

  int quantize(double scale, const float* x, float* xhat, uint64_t* index) const {
    float u[24];
    for (int i = 0; i < 24; ++i) u[i] = scale > 0 ? static_cast<float>(x[i] / scale) : 0.0f;
    const LeechBall::Result r = ball_.search_angular(u, min_shell_, max_shell_);
    const int g = gain_.index(r.score);  // score = ⟨u, v̂⟩
    reconstruct(scale, g, r.point, xhat);
    if (index) *index = r.index;
    return g;
  }
  void reconstruct(double scale, int g, const leech::Vec& v, float* xhat) const {
    shape_gain_block(scale * gain_.levels[static_cast<size_t>(g)], v, xhat);
  }

  int min_shell_, max_shell_, gain_bits_;
  const LeechBall& ball_;
  ScalarQuantizer gain_;
};

}  // namespace llvq::codec_detail
