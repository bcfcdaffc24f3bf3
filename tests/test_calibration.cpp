// HessianCapture restricted to some layers: it wraps only the layers it is asked for, records
// each of their inputs once, gives the same Hessians as a capture of every layer, refuses the
// inputs it did not record, and leaves the model as it found it. A small random Llama.
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "llvq/calibration.hpp"
#include "llvq/error.hpp"
#include "llvq/llama.hpp"
#include "model_test_util.hpp"

namespace llvq {
namespace {

void run_tokens(LlamaModel& m) {
  std::vector<int32_t> tokens(64);
  for (size_t i = 0; i < tokens.size(); ++i)
    tokens[i] = static_cast<int32_t>((i * 29 + 5) % static_cast<size_t>(m.config.vocab_size));
  LlamaRunner runner(m, 32);
  for (size_t begin = 0; begin < tokens.size(); begin += 32) {
    runner.reset();
    runner.append(std::span<const int32_t>(tokens.data() + begin, 32), false);
  }
}

bool is_capturing(const std::shared_ptr<Linear>& l) { return dynamic_cast<const CapturingLinear*>(l.get()) != nullptr; }

TEST(Calibration, CaptureOfSomeLayersRecordsOnlyTheirInputs) {
  LlamaModel all_model = test::small_random_llama();
  LlamaModel some_model = test::small_random_llama();
  ASSERT_GE(some_model.layers.size(), 2u);
  // attn_k shares its input with attn_q and attn_v: the input is recorded through attn_k.
  const std::set<std::string> wanted = {"blk.0.ffn_down.weight", "blk.1.attn_k.weight"};
  const std::shared_ptr<Linear> wk_before = some_model.layers[1].wk;

  HessianCapture all(all_model);
  run_tokens(all_model);
  {
    HessianCapture some(some_model, false, [&](const LinearSlot& s) { return wanted.count(s.name) > 0; });
    const LlamaLayer& l0 = some_model.layers[0];
    const LlamaLayer& l1 = some_model.layers[1];
    EXPECT_TRUE(is_capturing(l0.w2));
    EXPECT_TRUE(is_capturing(l1.wk));
    for (const auto* l : {&l0.wq, &l0.wk, &l0.wv, &l0.wo, &l0.w1, &l0.w3, &l1.wq, &l1.wv, &l1.w2})
      EXPECT_FALSE(is_capturing(*l));
    run_tokens(some_model);

    for (const std::string input : {"blk.0.ffn_down_in", "blk.1.attn_in"}) {
      EXPECT_EQ(some.input(input).count(), 64u) << input;
      EXPECT_TRUE(some.input(input).hessian() == all.input(input).hessian()) << input;
    }
    for (const std::string input : {"blk.0.attn_in", "blk.0.ffn_in", "blk.1.ffn_down_in", "blk.1.attn_out_in"})
      EXPECT_THROW(some.input(input), InputError) << input;
  }
  EXPECT_EQ(some_model.layers[1].wk, wk_before);
  for (const LinearSlot& s : linear_slots(some_model)) EXPECT_FALSE(is_capturing(*s.slot)) << s.name;
}

}  // namespace
}  // namespace llvq
