// llvq-sg: LLVQ shape–gain. The direction is the angular nearest point of the union of
// shells 2..M, the gain takes 0, 1, 2 or 4 bits; M is the largest ball whose index fits the
// bits left by the gain: at 2 bits per weight (48 bits per block) M = 13, 12, 11, 10 for 0,
// 1, 2, 4 gain bits (docs/background.md §1).
#include "codec/leech_shape_gain.hpp"
#include "llvq/leech_shells.hpp"

namespace llvq::codec_detail {

namespace {

int ball_bits(int M) { return shells::ceil_log2(shells::ball_count(M, true)); }

class LlvqShapeGain final : public LeechShapeGain {
 public:
  using LeechShapeGain::LeechShapeGain;
  std::string name() const override { return "llvq-sg"; }
  std::string spec() const override {
    return "llvq-sg:shells=" + std::to_string(max_shell()) + ",gain_bits=" + std::to_string(gain_bits()) +
           group_param();
  }
};

}  // namespace

std::unique_ptr<Codec> make_llvq_sg(const CodecSpec& spec) {
  const int gain_bits = spec.get_int("gain_bits", 1, 0, 4);
  if (gain_bits == 3) throw InputError("llvq-sg: gain_bits must be 0, 1, 2 or 4");
  const int group = spec.get_int("group", 0, 0, 1 << 24);
  int M = spec.get_int("shells", 0, 0, LeechBall::kMaxShell);
  if (M != 0 && spec.has("bpw")) throw InputError("llvq-sg: give either bpw or shells, not both");
  if (M == 0) {
    const int bpw = spec.get_int("bpw", 2, 1, 4);
    const int budget = 24 * bpw - gain_bits;
    for (int m = LeechBall::kMinShell; m <= LeechBall::kMaxShell && ball_bits(m) <= budget; ++m) M = m;
    if (M == 0 || (M == LeechBall::kMaxShell && ball_bits(M) < budget))
      throw InputError("llvq-sg: bpw=" + std::to_string(bpw) + " needs a ball beyond shell " +
                       std::to_string(LeechBall::kMaxShell) + " (" + std::to_string(ball_bits(LeechBall::kMaxShell)) +
                       " bits), which the lattice search does not support; use llvq-ss for 3 and 4 bits per weight");
  } else if (M < LeechBall::kMinShell) {
    throw InputError("llvq-sg: shells must be between 2 and " + std::to_string(LeechBall::kMaxShell));
  }
  return std::make_unique<LlvqShapeGain>(LeechBall::kMinShell, M, gain_bits, static_cast<size_t>(group));
}

}  // namespace llvq::codec_detail
