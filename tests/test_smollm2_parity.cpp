// Tokenization parity with llama.cpp on whole texts: SmolLM2's GPT-2 "smollm" pre-tokenizer
// and merges over WikiText-2 test and TinyStories validation. The counts and FNV-1a hashes of
// the id sequences (int32 little-endian) come from llama.cpp's `llama-tokenize -f FILE --ids`
// (llama.cpp source of the PyPI sdist llama-cpp-python 0.3.36).
#include <gtest/gtest.h>

#include "llvq/model_io.hpp"
#include "llvq/tokenizer.hpp"
#include "model_test_util.hpp"
#include "test_data.hpp"

namespace llvq {
namespace {

uint64_t fnv1a_ids(const std::vector<int32_t>& ids) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const int32_t id : ids)
    for (int b = 0; b < 4; ++b) h = (h ^ ((static_cast<uint32_t>(id) >> (8 * b)) & 0xFF)) * 0x100000001b3ull;
  return h;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(Smollm2Parity, WholeTextsTokenizeExactlyAsLlamaCpp) {
  const LlamaModel m = load_model(test::smollm2_model());
  const Tokenizer tok(*m.tokenizer);
  struct Text {
    const char* file;
    size_t count;
    uint64_t fnv;
  };
  for (const Text& t : {Text{"text/wiki.test.raw", 303415, 0x8672b255a2935a9bull},
                        Text{"text/tinystories_val.txt", 193745, 0xfaacfdd451ae5fefull}}) {
    const auto ids = tok.encode(read_all(test::data_file(t.file)), tok.adds_bos(), false);
    EXPECT_EQ(ids.size(), t.count) << t.file;
    EXPECT_EQ(fnv1a_ids(ids), t.fnv) << t.file;
  }
}

}  // namespace
}  // namespace llvq
