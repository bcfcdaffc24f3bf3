#include <gtest/gtest.h>

#include <cstring>

#include "llvq/model_io.hpp"
#include "model_test_util.hpp"

namespace {
using namespace llvq;
using namespace llvq::test;

// The pinned hash from SHA256SUMS, compared with sha256sum's digest of the file.
TEST(Llama2c, StoriesFileMatchesPinnedSha256) {
  const CommandResult cat = run_command("cat '" + data_file("SHA256SUMS") + "'");
  ASSERT_EQ(cat.status, 0) << cat.out;
  const CommandResult sha = run_command("sha256sum '" + stories_bin() + "'");
  ASSERT_EQ(sha.status, 0) << sha.out;
  const std::string &sums = cat.out, &digest = sha.out;
  const size_t name = sums.find("/stories260K.bin");
  ASSERT_NE(name, std::string::npos);
  const size_t line = sums.rfind('\n', name);
  const std::string want = sums.substr(line == std::string::npos ? 0 : line + 1, 64);
  EXPECT_EQ(digest.substr(0, 64), want);
}

TEST(Llama2c, StoriesConfig) {
  const LlamaModel m = load_model(stories_bin());
  const LlamaConfig& c = m.config;
  EXPECT_EQ(c.dim, 64);
  EXPECT_EQ(c.hidden_dim, 172);
  EXPECT_EQ(c.n_layers, 5);
  EXPECT_EQ(c.n_heads, 8);
  EXPECT_EQ(c.n_kv_heads, 4);
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_EQ(c.seq_len, 512);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(c.rope_style, RopeStyle::Interleaved);
  EXPECT_EQ(m.metadata.at("format"), "llama2c-v0");
  // The README's parameter count: embedding, 5 layers, final norm.
  size_t params = m.tok_embeddings.size() + m.final_norm.size();
  for (const auto& l : m.layers)
    params += l.attn_norm.size() + l.ffn_norm.size() + l.wq->dense_weight().size() + l.wk->dense_weight().size() +
              l.wv->dense_weight().size() + l.wo->dense_weight().size() + l.w1->dense_weight().size() +
              l.w2->dense_weight().size() + l.w3->dense_weight().size();
  EXPECT_EQ(params, 260032u);
  EXPECT_TRUE(bits_equal(m.output->dense_weight(), m.tok_embeddings));
}

// Individual floats read straight from the file at offsets computed from the layout in
// docs/background.md §4, against what the loader put where.
TEST(Llama2c, WeightsSitAtTheDocumentedOffsets) {
  const auto bytes = read_bytes(stories_bin());
  const LlamaModel m = load_model(stories_bin());
  auto at = [&](size_t float_index) {
    float f;
    std::memcpy(&f, bytes.data() + 28 + 4 * float_index, 4);
    return f;
  };
  const size_t dim = 64, kv = 32, hidden = 172, L = 5, vocab = 512;
  size_t off = 0;
  EXPECT_EQ(at(off + 3 * dim + 7), m.tok_embeddings[3 * dim + 7]);
  off += vocab * dim;
  EXPECT_EQ(at(off + 2 * dim + 5), m.layers[2].attn_norm[5]);
  off += L * dim;
  EXPECT_EQ(at(off + 1 * dim * dim + 10 * dim + 3), m.layers[1].wq->dense_weight()[10 * dim + 3]);
  off += L * dim * dim;
  EXPECT_EQ(at(off + 4 * kv * dim + 31 * dim + 63), m.layers[4].wk->dense_weight()[31 * dim + 63]);
  off += L * kv * dim;
  EXPECT_EQ(at(off + 0 * kv * dim + 17), m.layers[0].wv->dense_weight()[17]);
  off += L * kv * dim;
  EXPECT_EQ(at(off + 3 * dim * dim + 100), m.layers[3].wo->dense_weight()[100]);
  off += L * dim * dim;
  EXPECT_EQ(at(off + 4 * dim + 63), m.layers[4].ffn_norm[63]);
  off += L * dim;
  EXPECT_EQ(at(off + 2 * hidden * dim + 171 * dim + 1), m.layers[2].w1->dense_weight()[171 * dim + 1]);
  off += L * hidden * dim;
  EXPECT_EQ(at(off + 1 * dim * hidden + 63 * hidden + 171), m.layers[1].w2->dense_weight()[63 * hidden + 171]);
  off += L * dim * hidden;
  EXPECT_EQ(at(off + 4 * hidden * dim + 5), m.layers[4].w3->dense_weight()[5]);
  off += L * hidden * dim;
  EXPECT_EQ(at(off + 9), m.final_norm[9]);
  off += dim;
  // Two legacy RoPE tables of seq_len · head_size / 2 floats each end the file.
  EXPECT_EQ(28 + 4 * (off + 2 * 512 * 4), bytes.size());
}

// Writes `m` as a llama2.c version-1 checkpoint, following export.py's version1 layout.
std::vector<uint8_t> to_version1(const LlamaModel& m, bool shared) {
  std::vector<uint8_t> out(256, 0);
  const uint32_t magic = 0x616b3432;
  const int32_t hdr[9] = {1, m.config.dim, m.config.hidden_dim, m.config.n_layers, m.config.n_heads,
                          m.config.n_kv_heads, m.config.vocab_size, m.config.seq_len, 0};
  std::memcpy(out.data(), &magic, 4);
  std::memcpy(out.data() + 4, hdr, 32);
  out[36] = shared ? 1 : 0;
  auto put = [&](const std::vector<float>& v) {
    const auto* p = reinterpret_cast<const uint8_t*>(v.data());
    out.insert(out.end(), p, p + v.size() * 4);
  };
  for (const auto& l : m.layers) put(l.attn_norm);
  for (const auto& l : m.layers) put(l.ffn_norm);
  put(m.final_norm);
  put(m.tok_embeddings);
  for (auto member : {&LlamaLayer::wq, &LlamaLayer::wk, &LlamaLayer::wv, &LlamaLayer::wo, &LlamaLayer::w1,
                      &LlamaLayer::w2, &LlamaLayer::w3})
    for (const auto& l : m.layers) put((l.*member)->dense_weight());
  if (!shared) put(m.output->dense_weight());
  return out;
}

TEST(Llama2c, Version1RoundTrip) {
  const LlamaModel v0 = load_model(stories_bin());
  TempDir dir("llama2c");
  write_bytes(dir.file("v1.bin"), to_version1(v0, true));
  EXPECT_EQ(detect_model_format(dir.file("v1.bin")), ModelFormat::Llama2c);
  const LlamaModel v1 = load_model(dir.file("v1.bin"));
  expect_models_equal(v0, v1);
  EXPECT_EQ(v1.metadata.at("format"), "llama2c-v1");
}

TEST(Llama2c, UnsharedClassifierVersion1) {
  LlamaModel v0 = load_model(stories_bin());
  std::vector<float> cls = v0.tok_embeddings;
  for (float& x : cls) x *= -0.5f;
  v0.output = std::make_shared<DenseLinear>(512, 64, cls);
  v0.config.tied_embeddings = false;
  TempDir dir("llama2c");
  write_bytes(dir.file("v1.bin"), to_version1(v0, false));
  const LlamaModel v1 = load_model(dir.file("v1.bin"));
  EXPECT_FALSE(v1.config.tied_embeddings);
  EXPECT_TRUE(bits_equal(v1.output->dense_weight(), cls));
}

TEST(Llama2c, UnsharedClassifierVersion0NegativeVocab) {
  auto bytes = read_bytes(stories_bin());
  const int32_t neg = -512;
  std::memcpy(bytes.data() + 20, &neg, 4);
  std::vector<float> cls(512 * 64);
  for (size_t i = 0; i < cls.size(); ++i) cls[i] = static_cast<float>(i) * 0.25f;
  const auto* p = reinterpret_cast<const uint8_t*>(cls.data());
  bytes.insert(bytes.end(), p, p + cls.size() * 4);
  const LlamaModel m = parse_llama2c(bytes, "neg.bin");
  EXPECT_FALSE(m.config.tied_embeddings);
  EXPECT_EQ(m.config.vocab_size, 512);
  EXPECT_TRUE(bits_equal(m.output->dense_weight(), cls));
}

TEST(Llama2c, CorruptHeadersGiveClearErrors) {
  const auto good = read_bytes(stories_bin());
  auto with_field = [&](int index, int32_t value) {
    auto b = good;
    std::memcpy(b.data() + 4 * index, &value, 4);
    return b;
  };
  expect_input_error([&] { parse_llama2c(with_field(3, 0), "x.bin"); }, {"x.bin", "n_heads"});
  expect_input_error([&] { parse_llama2c(with_field(4, 3), "x.bin"); }, {"x.bin", "n_kv_heads"});
  expect_input_error([&] { parse_llama2c(with_field(0, 60), "x.bin"); }, {"x.bin", "dim"});
  expect_input_error([&] { parse_llama2c(with_field(2, 0x7fffffff), "x.bin"); }, {"x.bin", "file size"});
  expect_input_error([&] { parse_llama2c(with_field(5, INT32_MIN), "x.bin"); }, {"x.bin", "vocab_size"});
  // dim · n_kv_heads beyond int (found by the fuzz test under UBSan).
  expect_input_error([&] { parse_llama2c(with_field(0, 536870976), "x.bin"); }, {"x.bin", "too large"});
  auto truncated = good;
  truncated.resize(good.size() - 1);
  expect_input_error([&] { parse_llama2c(truncated, "t.bin"); }, {"t.bin", "file size"});
  expect_input_error([&] { parse_llama2c(std::vector<uint8_t>(10), "s.bin"); }, {"s.bin", "truncated"});
  expect_input_error([&] { load_model("/nonexistent/model.bin"); }, {"/nonexistent/model.bin"});
}

}  // namespace
