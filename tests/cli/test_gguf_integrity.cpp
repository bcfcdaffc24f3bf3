// Integrity of compressed GGUF files: one bit flipped anywhere in a compressed tensor's codes
// or in the llvq.t.* keys that decode it is an error on load (never a silently different
// model), and `llvq inspect --verify` reports it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "llvq/error.hpp"
#include "llvq/gguf.hpp"
#include "llvq/model_io.hpp"
#include "cli.hpp"
#include "model_test_util.hpp"

namespace llvq {
namespace {

using test::TempDir;

// Offset of the value of string/uint key `key` in a GGUF image: after the key's bytes come its
// type (u32) and, for a string, its length (u64).
size_t value_offset(const std::vector<uint8_t>& bytes, const std::string& key, bool is_string) {
  const auto it = std::search(bytes.begin(), bytes.end(), key.begin(), key.end());
  EXPECT_NE(it, bytes.end()) << key;
  return static_cast<size_t>(it - bytes.begin()) + key.size() + 4 + (is_string ? 8 : 0);
}

class GgufIntegrity : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("integrity");
    file_ = dir_->file("q.gguf");
    const test::CommandResult r = test::run_cli("quantize --model " + test::stories_bin() + " --out " + file_ +
                                                " --codec llvq-sg --rounding rtn --hadamard in");
    ASSERT_EQ(r.status, 0) << r.out;
  }
  static void TearDownTestSuite() { delete dir_; }

  // Loading the image with bit `bit` of byte `at` flipped must fail with InputError.
  static void expect_caught(const std::vector<uint8_t>& original, size_t at, int bit, const std::string& what) {
    std::vector<uint8_t> bytes = original;
    bytes[at] ^= static_cast<uint8_t>(1u << bit);
    const std::string path = dir_->file("flipped.gguf");
    test::write_bytes(path, bytes);
    EXPECT_THROW(load_model(path), InputError) << what << ": byte " << at << " bit " << bit;
  }

  static TempDir* dir_;
  static std::string file_;
};

TempDir* GgufIntegrity::dir_ = nullptr;
std::string GgufIntegrity::file_;

TEST_F(GgufIntegrity, EveryFlippedCodeBitIsCaught) {
  const std::vector<uint8_t> original = test::read_bytes(file_);
  ASSERT_NO_THROW(load_model(file_));
  const gguf::File f = gguf::File::read(file_);
  int tensors = 0;
  for (const gguf::TensorInfo& t : f.tensors()) {
    if (!t.name.ends_with(".llvq_body")) continue;
    ++tensors;
    const size_t start = static_cast<size_t>(f.data_offset() + t.offset), n = static_cast<size_t>(t.n_bytes());
    for (size_t at : {start, start + n / 3, start + n / 2, start + n - 1})
      for (int bit : {0, 3, 7}) expect_caught(original, at, bit, t.name);
  }
  EXPECT_EQ(tensors, 35);
}

TEST_F(GgufIntegrity, EveryFlippedDecodingKeyIsCaught) {
  const std::vector<uint8_t> original = test::read_bytes(file_);
  for (const std::string layer : {"blk.0.attn_q.weight", "blk.4.ffn_down.weight"}) {
    const std::string p = "llvq.t." + layer + ".";
    // The codec spec's last character (a digit of a parameter: another valid spec), the
    // Hadamard seed, the column split and the Hadamard mode.
    const size_t codec = value_offset(original, p + "codec", true);
    const gguf::File f = gguf::File::read(file_);
    const size_t spec_length = f.get(p + "codec").as_string("codec").size();
    expect_caught(original, codec + spec_length - 1, 1, p + "codec");
    expect_caught(original, value_offset(original, p + "hadamard_seed", false), 0, p + "hadamard_seed");
    expect_caught(original, value_offset(original, p + "body_cols", false), 3, p + "body_cols");
    expect_caught(original, value_offset(original, p + "hadamard", true), 1, p + "hadamard");
  }
}

TEST_F(GgufIntegrity, InspectVerifyReportsTheBadTensor) {
  test::CommandResult r = test::run_cli("inspect --verify " + file_);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("35 compressed tensors, 35 with checksums"), std::string::npos) << r.out;
  std::vector<uint8_t> bytes = test::read_bytes(file_);
  const gguf::File f = gguf::File::read(file_);
  const gguf::TensorInfo& t = f.tensor("blk.2.ffn_up.weight.llvq_body");
  bytes[static_cast<size_t>(f.data_offset() + t.offset + 5)] ^= 0x10;
  const std::string bad = dir_->file("bad.gguf");
  test::write_bytes(bad, bytes);
  r = test::run_cli("inspect --verify " + bad);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("blk.2.ffn_up.weight"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("checksum mismatch"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace llvq
