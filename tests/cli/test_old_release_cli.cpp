// Files written by an earlier release (tests/fixtures/old_release/README.md) still load, decode
// to exactly the weights that release decoded, and run: the compatibility promise of the
// compressed format, checked on every codec of the catalog and both Hadamard modes.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli.hpp"
#include "files.hpp"
#include "llvq/gguf.hpp"
#include "llvq/llama.hpp"
#include "llvq/model_io.hpp"

namespace {
using namespace llvq;
using namespace llvq::test;

const std::string kFixtures = std::string(LLVQ_TESTS_DIR) + "/fixtures/old_release/";

uint64_t fnv1a64(std::span<const uint8_t> bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const uint8_t b : bytes) h = (h ^ b) * 0x100000001b3ull;
  return h;
}

std::string hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

class OldRelease : public ::testing::TestWithParam<const char*> {};

// `llvq convert --type f32` of the old file gives, tensor by tensor, the bytes the old
// release's own conversion gave.
TEST_P(OldRelease, DecodesToTheWeightsTheReleaseDecoded) {
  const std::string name = GetParam();
  nlohmann::json expected;
  std::ifstream(kFixtures + "expected_f32_fnv1a.json") >> expected;
  ASSERT_TRUE(expected.contains(name));
  TempDir dir("old_release");
  const std::string out = dir.file("f32.gguf");
  const CommandResult r = run_cli("convert '" + kFixtures + name + "' '" + out + "' --type f32");
  ASSERT_EQ(r.status, 0) << r.out;
  const gguf::File f = gguf::File::read(out);
  ASSERT_EQ(f.tensors().size(), expected[name].size());
  for (const auto& t : f.tensors()) {
    ASSERT_TRUE(expected[name].contains(t.name)) << t.name;
    EXPECT_EQ(hex16(fnv1a64(f.data(t))), expected[name][t.name].get<std::string>()) << t.name;
  }
}

// The old file runs on the compressed kernels and gives the logits of its decoded weights
// (the dense f32 conversion), within the kernels' float rounding.
TEST_P(OldRelease, RunsAndGivesTheLogitsOfItsWeights) {
  const std::string name = GetParam();
  TempDir dir("old_release");
  const std::string out = dir.file("f32.gguf");
  ASSERT_EQ(run_cli("convert '" + kFixtures + name + "' '" + out + "' --type f32").status, 0);
  const LlamaModel compressed = load_model(kFixtures + name);
  const LlamaModel dense = load_model(out);
  std::vector<int32_t> tokens;
  for (int i = 0; i < 20; ++i) tokens.push_back((7 * i + 3) % compressed.config.vocab_size);
  // One token at a time (the fused GEMVs) and a whole window (decode + GEMM).
  for (const bool windowed : {false, true}) {
    LlamaRunner a(compressed, 32), b(dense, 32);
    std::vector<float> la, lb;
    if (windowed) {
      la = a.forward_window(tokens);
      lb = b.forward_window(tokens);
    } else {
      for (const int32_t t : tokens) {
        la = a.append(std::span(&t, 1), false);
        lb = b.append(std::span(&t, 1), false);
      }
    }
    ASSERT_EQ(la.size(), lb.size());
    for (size_t i = 0; i < la.size(); ++i) {
      ASSERT_TRUE(std::isfinite(la[i]));
      EXPECT_NEAR(la[i], lb[i], 1e-4f * (1.0f + std::abs(lb[i]))) << (windowed ? "window " : "token ") << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Files, OldRelease, ::testing::Values("mixed-codecs.gguf", "hadamard-inout.gguf"),
                         [](const auto& info) {
                           std::string n = info.param;
                           return n.substr(0, n.find('-'));
                         });

}  // namespace
