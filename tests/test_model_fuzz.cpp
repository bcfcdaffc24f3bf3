// Damaged files: every truncation and bit flip must end in a clean InputError or a valid
// load, never a crash, a hang, or another exception type (bad_alloc from a trusted
// length, out_of_range, ...). Positions are drawn from a seeded generator.
#include <gtest/gtest.h>

#include <random>

#include "llvq/gguf.hpp"
#include "llvq/model_io.hpp"
#include "llvq/safetensors.hpp"
#include "llvq/tokenizer.hpp"
#include "model_test_util.hpp"

namespace {
using namespace llvq;
using namespace llvq::test;

struct Outcome {
  int loaded = 0, rejected = 0;
};

// Runs `load` on `bytes`; an InputError counts as a clean rejection, anything else fails.
template <class Load>
void attempt(const std::vector<uint8_t>& bytes, Load load, Outcome& o, const std::string& what) {
  try {
    load(bytes);
    ++o.loaded;
  } catch (const InputError& e) {
    ++o.rejected;
    EXPECT_NE(std::string(e.what()).find("fuzz."), std::string::npos) << what << ": error does not name the file: " << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": " << typeid(e).name() << ": " << e.what();
  }
}

// How hard to try: the quick level runs in every build (sanitizers included), the
// exhaustive one in Release only.
struct Effort {
  size_t cut_step;   // truncate at every multiple of this below the header end
  int random_cuts;   // plus this many random lengths
  int head_flips;    // single-bit flips in the header
  int tail_flips;    // and in the tensor data
};
constexpr Effort kQuick{97, 20, 150, 15};
constexpr Effort kExhaustive{3, 300, 5000, 300};

// Truncations and single-bit flips; the header (below `dense_until`) gets most of them.
template <class Load>
Outcome fuzz(const std::vector<uint8_t>& good, uint64_t dense_until, Load load, uint32_t seed, Effort effort) {
  std::mt19937_64 rng(seed);
  Outcome o;
  std::vector<size_t> cuts;
  for (size_t n = 0; n < std::min<size_t>(dense_until, good.size()); n += effort.cut_step) cuts.push_back(n);
  for (int i = 0; i < effort.random_cuts; ++i) cuts.push_back(rng() % good.size());
  for (size_t n : cuts) {
    std::vector<uint8_t> b(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    attempt(b, load, o, "truncated to " + std::to_string(n));
  }
  std::vector<uint8_t> b = good;
  auto flip_at = [&](size_t pos) {
    const uint8_t mask = static_cast<uint8_t>(1u << (rng() % 8));
    b[pos] ^= mask;
    attempt(b, load, o, "bit flip at byte " + std::to_string(pos));
    b[pos] ^= mask;
  };
  const size_t head = std::min<size_t>(dense_until, good.size());
  for (int i = 0; i < effort.head_flips; ++i) flip_at(rng() % head);
  for (int i = 0; i < effort.tail_flips; ++i) flip_at(head + rng() % (good.size() - head));
  return o;
}

void fuzz_gguf(Effort effort, int min_rejected, int min_loaded) {
  LlamaModel m = load_model(stories_bin());
  m.tokenizer = load_llama2c_tokenizer(stories_tok());
  TempDir dir("fuzz");
  save_gguf(m, dir.file("s.gguf"));
  const auto good = read_bytes(dir.file("s.gguf"));
  const uint64_t header = gguf::File::parse(good, "x").data_offset();
  const Outcome o = fuzz(good, header + 64, [](const std::vector<uint8_t>& b) {
    llama_from_gguf(gguf::File::parse(b, "fuzz.gguf"));
  }, 1, effort);
  EXPECT_GT(o.rejected, min_rejected);
  EXPECT_GT(o.loaded, min_loaded);  // flips inside tensor data or float values still load
}

TEST(ModelFuzz, GgufTruncationsAndBitFlips) { fuzz_gguf(kQuick, 40, 5); }
TEST(ModelFuzz, GgufTruncationsAndBitFlipsExhaustive) { fuzz_gguf(kExhaustive, 2000, 100); }

void fuzz_llama2c(Effort effort, int min_rejected, int min_loaded) {
  const auto good = read_bytes(stories_bin());
  const Outcome o = fuzz(good, 64, [](const std::vector<uint8_t>& b) { parse_llama2c(b, "fuzz.bin"); }, 2, effort);
  EXPECT_GT(o.rejected, min_rejected);
  EXPECT_GT(o.loaded, min_loaded);
}

TEST(ModelFuzz, Llama2cTruncationsAndBitFlips) { fuzz_llama2c(kQuick, 30, 5); }
TEST(ModelFuzz, Llama2cTruncationsAndBitFlipsExhaustive) { fuzz_llama2c(kExhaustive, 1000, 100); }

void fuzz_safetensors(Effort effort, int min_rejected, int min_loaded) {
  TempDir dir("fuzz");
  ASSERT_NO_FATAL_FAILURE(make_safetensors_fixture(stories_bin(), dir.path(), "--dtype F16"));
  const auto good = read_bytes(dir.file("model.safetensors"));
  uint64_t header = 0;
  std::memcpy(&header, good.data(), 8);
  const Outcome o = fuzz(good, 8 + header, [](const std::vector<uint8_t>& b) {
    const auto f = safetensors::File::parse(b, "fuzz.safetensors");
    for (const auto& t : f.tensors()) f.to_f32(t);
  }, 3, effort);
  EXPECT_GT(o.rejected, min_rejected);
  EXPECT_GT(o.loaded, min_loaded);
}

TEST(ModelFuzz, SafetensorsTruncationsAndBitFlips) { fuzz_safetensors(kQuick, 40, 5); }
TEST(ModelFuzz, SafetensorsTruncationsAndBitFlipsExhaustive) { fuzz_safetensors(kExhaustive, 2000, 100); }

}  // namespace
