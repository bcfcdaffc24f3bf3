#include "llvq/calibration.hpp"

#include <algorithm>

#include "llvq/error.hpp"

namespace llvq {

CapturingLinear::CapturingLinear(std::shared_ptr<Linear> inner, std::shared_ptr<HessianAccumulator> acc)
    : inner_(std::move(inner)), acc_(std::move(acc)) {
  if (static_cast<int64_t>(acc_->dim()) != inner_->in_features())
    throw InputError("calibration: accumulator width does not match the layer's input");
}

void CapturingLinear::forward(const float* x, float* y, int64_t n_tokens) const {
  acc_->add(x, static_cast<size_t>(n_tokens));
  inner_->forward(x, y, n_tokens);
}

std::vector<LinearSlot> linear_slots(LlamaModel& model) {
  std::vector<LinearSlot> out;
  for (size_t i = 0; i < model.layers.size(); ++i) {
    LlamaLayer& l = model.layers[i];
    const std::string p = "blk." + std::to_string(i) + ".";
    out.push_back({p + "attn_q.weight", &l.wq, p + "attn_in"});
    out.push_back({p + "attn_k.weight", &l.wk, p + "attn_in"});
    out.push_back({p + "attn_v.weight", &l.wv, p + "attn_in"});
    out.push_back({p + "attn_output.weight", &l.wo, p + "attn_out_in"});
    out.push_back({p + "ffn_gate.weight", &l.w1, p + "ffn_in"});
    out.push_back({p + "ffn_down.weight", &l.w2, p + "ffn_down_in"});
    out.push_back({p + "ffn_up.weight", &l.w3, p + "ffn_in"});
  }
  return out;
}

HessianCapture::HessianCapture(LlamaModel& model, bool classifier, const SlotFilter& wanted) : model_(model) {
  std::vector<LinearSlot> slots = linear_slots(model_);
  if (wanted) std::erase_if(slots, [&](const LinearSlot& s) { return !wanted(s); });
  if (classifier) slots.push_back({"output.weight", &model_.output, kClassifierInput});
  for (LinearSlot& s : slots) {
    if (!*s.slot) throw InputError("calibration: layer " + s.name + " is missing");
    // Layers that read the same input (q/k/v, gate/up) see the same activations: only the
    // first of them records it.
    const bool seen = std::any_of(inputs_.begin(), inputs_.end(), [&](const auto& in) { return in.first == s.input; });
    if (seen) continue;
    auto acc = std::make_shared<HessianAccumulator>(static_cast<size_t>((*s.slot)->in_features()));
    inputs_.emplace_back(s.input, acc);
    originals_.emplace_back(s.slot, *s.slot);
    *s.slot = std::make_shared<CapturingLinear>(*s.slot, acc);
  }
}

HessianCapture::~HessianCapture() {
  for (auto& [slot, original] : originals_) *slot = original;
}

const HessianAccumulator& HessianCapture::input(const std::string& input_name) const {
  for (const auto& [name, a] : inputs_)
    if (name == input_name) return *a;
  throw InputError("calibration: no input named " + input_name);
}

}  // namespace llvq
