#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <random>

#include "llvq/half.hpp"
#include "llvq/model_io.hpp"
#include "llvq/safetensors.hpp"
#include "model_test_util.hpp"
#include "model/rope_permutation.hpp"

namespace {
using namespace llvq;
using namespace llvq::test;

std::vector<float> rounded(std::vector<float> v, bool bf16) {
  for (float& x : v) x = bf16 ? bf16_to_float(float_to_bf16(x)) : fp16_to_float(float_to_fp16(x));
  return v;
}

TEST(Safetensors, SingleFileEqualsLlama2cBitExactly) {
  const LlamaModel ref = load_model(stories_bin());
  TempDir dir("st");
  make_safetensors_fixture(stories_bin(), dir.path(), "--dtype F32");
  EXPECT_EQ(detect_model_format(dir.path()), ModelFormat::Safetensors);
  expect_models_equal(ref, load_model(dir.path()));
  const LlamaModel via_file = load_model(dir.file("model.safetensors"));
  expect_models_equal(ref, via_file);
  EXPECT_EQ(via_file.metadata.at("format"), "safetensors");
}

TEST(Safetensors, ShardedEqualsLlama2cBitExactly) {
  const LlamaModel ref = load_model(stories_bin());
  TempDir dir("st");
  make_safetensors_fixture(stories_bin(), dir.path(), "--dtype F32 --shards 3");
  expect_models_equal(ref, load_model(dir.path()));
  expect_models_equal(ref, load_model(dir.file("model.safetensors.index.json")));
}

// NumPy's float16 cast and our rounding must agree on every weight; the q/k permutation
// must be undone for half-precision files too.
TEST(Safetensors, HalfPrecisionFilesHoldRoundedWeights) {
  const LlamaModel ref = load_model(stories_bin());
  for (const bool bf16 : {false, true}) {
    TempDir dir("st");
    make_safetensors_fixture(stories_bin(), dir.path(), bf16 ? "--dtype BF16 --untied" : "--dtype F16 --untied");
    const LlamaModel m = load_model(dir.path());
    EXPECT_FALSE(m.config.tied_embeddings);
    EXPECT_TRUE(bits_equal(m.tok_embeddings, rounded(ref.tok_embeddings, bf16)));
    std::vector<float> neg = ref.tok_embeddings;
    for (float& x : neg) x = -x;
    EXPECT_TRUE(bits_equal(m.output->dense_weight(), rounded(neg, bf16)));
    for (size_t l = 0; l < ref.layers.size(); ++l) {
      EXPECT_TRUE(bits_equal(m.layers[l].wq->dense_weight(), rounded(ref.layers[l].wq->dense_weight(), bf16))) << l;
      EXPECT_TRUE(bits_equal(m.layers[l].wk->dense_weight(), rounded(ref.layers[l].wk->dense_weight(), bf16))) << l;
      EXPECT_TRUE(bits_equal(m.layers[l].w2->dense_weight(), rounded(ref.layers[l].w2->dense_weight(), bf16))) << l;
      EXPECT_TRUE(bits_equal(m.layers[l].attn_norm, rounded(ref.layers[l].attn_norm, bf16))) << l;
    }
  }
}

TEST(Safetensors, RopePermutationIsABijectionWithTheDocumentedRowMap) {
  const int heads = 3, head_dim = 8, cols = 2;
  std::vector<float> w(heads * head_dim * cols);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i);
  const auto split = rope::interleaved_to_half_split(w, heads, cols);
  // HF row h·d + s·d/2 + i holds interleaved row h·d + 2i + s.
  for (int h = 0; h < heads; ++h)
    for (int s = 0; s < 2; ++s)
      for (int i = 0; i < head_dim / 2; ++i)
        for (int c = 0; c < cols; ++c)
          EXPECT_EQ(split[(h * head_dim + s * head_dim / 2 + i) * cols + c], w[(h * head_dim + 2 * i + s) * cols + c]);
  EXPECT_EQ(rope::half_split_to_interleaved(split, heads, cols), w);
  EXPECT_THROW(rope::half_split_to_interleaved(std::vector<float>(10), 3, 2), InputError);
}

// A safetensors image from a JSON header and a buffer of `buffer_bytes` bytes.
std::vector<uint8_t> image(const std::string& header, size_t buffer_bytes) {
  std::vector<uint8_t> b(8 + header.size() + buffer_bytes, 0);
  const uint64_t n = header.size();
  std::memcpy(b.data(), &n, 8);
  std::memcpy(b.data() + 8, header.data(), header.size());
  return b;
}

void expect_header_error(const std::string& header, size_t buffer, const std::vector<std::string>& parts) {
  expect_input_error([&] { safetensors::File::parse(image(header, buffer), "bad.safetensors"); }, parts);
}

TEST(Safetensors, CorruptHeadersGiveClearErrors) {
  const std::string ok = R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"__metadata__":{"k":"v"}})";
  const auto f = safetensors::File::parse(image(ok, 24), "ok.safetensors");
  EXPECT_EQ(f.tensor("a").shape, (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(f.metadata().at("k"), "v");
  expect_header_error(ok, 23, {"bad.safetensors", "'a'", "leave the buffer"});
  expect_header_error(R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})", 24, {"bad.safetensors", "'a'", "need 24"});
  expect_header_error(R"({"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}})", 4, {"bad.safetensors", "'a'", "dtype"});
  expect_header_error(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4, {"bad.safetensors", "'a'", "shape"});
  expect_header_error(R"({"a":{"dtype":"F32","shape":[1]}})", 4, {"bad.safetensors", "'a'", "data_offsets"});
  expect_header_error(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                      8, {"bad.safetensors", "duplicated key \"a\""});
  expect_header_error(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                      12, {"bad.safetensors", "overlaps"});
  expect_header_error(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", 4, {"bad.safetensors", "'a'"});
  expect_header_error(R"({"a": )", 4, {"bad.safetensors", "invalid JSON"});
  expect_header_error(R"([1,2])", 0, {"bad.safetensors", "not a JSON object"});
  expect_header_error(R"({"__metadata__":{"k":1}})", 0, {"bad.safetensors", "__metadata__"});
  auto huge = image(ok, 24);
  const uint64_t n = 1000;
  std::memcpy(huge.data(), &n, 8);
  expect_input_error([&] { safetensors::File::parse(huge, "bad.safetensors"); }, {"bad.safetensors", "JSON header"});
  const auto i16 = safetensors::File::parse(image(R"({"i":{"dtype":"I16","shape":[2],"data_offsets":[0,4]}})", 4), "i.st");
  expect_input_error([&] { i16.to_f32(i16.tensor("i")); }, {"i.st", "'i'", "I16"});
}

void edit_config(const std::string& dir, const std::string& from, const std::string& to) {
  std::ifstream in(dir + "/config.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  std::ofstream(dir + "/config.json", std::ios::trunc) << text;
}

TEST(Safetensors, ModelLevelErrorsNameFileAndField) {
  TempDir dir("st");
  make_safetensors_fixture(stories_bin(), dir.path(), "--shards 2");
  const std::string d = dir.path();
  edit_config(d, "\"intermediate_size\": 172", "\"intermediate_size\": 170");
  expect_input_error([&] { load_model(d); }, {"safetensors", "mlp.", "[172, 64]", "[170, 64]", "config.json"});
  edit_config(d, "\"intermediate_size\": 170", "\"intermediate_size\": 172");
  edit_config(d, "\"num_key_value_heads\": 4", "\"num_key_value_heads\": 3");
  expect_input_error([&] { load_model(d); }, {"config.json", "num_key_value_heads"});
  edit_config(d, "\"num_key_value_heads\": 3", "\"num_key_value_heads\": 4, \"rope_scaling\": {\"type\": \"linear\"}");
  expect_input_error([&] { load_model(d); }, {"config.json", "rope_scaling"});
  edit_config(d, ", \"rope_scaling\": {\"type\": \"linear\"}", "");
  EXPECT_NO_THROW(load_model(d));
  edit_config(d, "\"tie_word_embeddings\": true", "\"tie_word_embeddings\": false");
  expect_input_error([&] { load_model(d); }, {d, "lm_head.weight", "tie_word_embeddings"});
  edit_config(d, "\"tie_word_embeddings\": false", "\"tie_word_embeddings\": true");
  std::filesystem::remove(dir.file("model-00002-of-00002.safetensors"));
  expect_input_error([&] { load_model(d); }, {"model-00002-of-00002.safetensors"});
  std::filesystem::remove(dir.file("config.json"));
  expect_input_error([&] { load_model(d); }, {"config.json"});
  TempDir empty("st");
  expect_input_error([&] { load_safetensors_model(empty.path()); }, {empty.path(), "model.safetensors"});
}

}  // namespace
