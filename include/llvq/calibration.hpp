// Calibration: collects H = XᵀX/N for the input of every linear layer of a Llama model while
// the model runs over calibration text. Layers that read the same input share one
// accumulator (q/k/v read the attention norm's output, gate/up the FFN norm's output).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "llvq/gptq.hpp"
#include "llvq/model.hpp"

namespace llvq {

// A Linear that records its inputs into a Hessian accumulator, then runs the wrapped layer.
class CapturingLinear final : public Linear {
 public:
  CapturingLinear(std::shared_ptr<Linear> inner, std::shared_ptr<HessianAccumulator> acc);
  int64_t in_features() const override { return inner_->in_features(); }
  int64_t out_features() const override { return inner_->out_features(); }
  void forward(const float* x, float* y, int64_t n_tokens) const override;
  std::vector<float> dense_weight() const override { return inner_->dense_weight(); }
  double bits_per_weight() const override { return inner_->bits_per_weight(); }
  const std::shared_ptr<Linear>& inner() const { return inner_; }

 private:
  std::shared_ptr<Linear> inner_;
  std::shared_ptr<HessianAccumulator> acc_;
};

// One quantizable matrix of the model: its GGUF-style name and where it lives.
struct LinearSlot {
  std::string name;               // e.g. "blk.0.attn_q.weight"
  std::shared_ptr<Linear>* slot;  // the model's pointer (replaceable)
  std::string input;              // name of the shared input, e.g. "blk.0.attn_in"
};

// Every linear layer of the model in file order (q, k, v, o, gate, down, up per layer).
std::vector<LinearSlot> linear_slots(LlamaModel& model);

// The input name of the classifier (`output`) in a HessianCapture: the final norm's output.
inline constexpr const char* kClassifierInput = "output_in";

// Which linear layers a HessianCapture records (an empty function: all of them).
using SlotFilter = std::function<bool(const LinearSlot&)>;

// Wraps every linear layer that `wanted` accepts with a CapturingLinear while alive; restores
// them on destruction. An input is recorded once if any layer reading it is wanted: a recipe
// that keeps most layers dense pays for the Hessians of the others only. With `classifier`,
// the classifier too (its input is seen only for the tokens whose logits the forward computes).
class HessianCapture {
 public:
  explicit HessianCapture(LlamaModel& model, bool classifier = false, const SlotFilter& wanted = {});
  ~HessianCapture();
  HessianCapture(const HessianCapture&) = delete;
  HessianCapture& operator=(const HessianCapture&) = delete;
  // The accumulator of a layer's input (by input name from LinearSlot::input); InputError for
  // an input that was not recorded.
  const HessianAccumulator& input(const std::string& input_name) const;

 private:
  LlamaModel& model_;
  std::vector<std::pair<std::shared_ptr<Linear>*, std::shared_ptr<Linear>>> originals_;
  std::vector<std::pair<std::string, std::shared_ptr<HessianAccumulator>>> inputs_;
};

}  // namespace llvq
