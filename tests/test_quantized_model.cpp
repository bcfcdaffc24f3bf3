#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "test_data.hpp"
#include "llvq/error.hpp"
#include "llvq/eval.hpp"
#include "llvq/gguf.hpp"
#include "llvq/llama.hpp"
#include "llvq/model_io.hpp"
#include "llvq/quantized_model.hpp"
#include "llvq/tokenizer.hpp"

namespace {
using namespace llvq;
namespace fs = std::filesystem;

const std::string kModel = llvq::test::data_file("models/stories260K/stories260K.bin");
const std::string kTok = llvq::test::data_file("models/stories260K/tok512.bin");
const std::string kText = llvq::test::data_file("text/tinystories_val.txt");

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("llvq-test-" + std::to_string(::getpid()) + "-" + name)).string();
}

std::vector<int32_t> text_tokens(size_t n) {
  std::ifstream f(kText);
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  text.resize(std::min(text.size(), n * 6));
  Tokenizer tok(load_llama2c_tokenizer(kTok));
  auto t = tok.encode(text, true, false);
  t.resize(std::min(t.size(), n));
  return t;
}

// Quantize → write → read → dequantize gives the same weights bit for bit, and the loaded
// model computes the same logits as the in-memory quantized one.
TEST(QuantizedModel, SlowGgufRoundTripIsBitExact) {
  LlamaModel m = load_model(kModel);
  m.tokenizer = load_llama2c_tokenizer(kTok);
  ModelQuantOptions o;
  o.tensor.codec = "e8p";
  o.tensor.rounding = Rounding::SphericalGptq;
  o.tensor.hadamard = HadamardMode::In;
  o.progress = false;
  o.calib_ctx = 128;
  const auto report = quantize_model(m, text_tokens(512), o);
  EXPECT_EQ(report.tensors.size(), 35u);
  EXPECT_GT(report.bpw, 2.0);
  EXPECT_LT(report.bpw, 2.5);
  // Throughput accounting: E8P codes 8-weight blocks; widths that are multiples of 8 need no
  // padding, and the model's total is the sum over its tensors.
  uint64_t blocks = 0;
  for (const TensorReport& t : report.tensors) {
    if (t.cols % 8 == 0) {
      EXPECT_EQ(t.blocks, static_cast<uint64_t>(t.rows * t.cols / 8)) << t.name;
    }
    EXPECT_GE(t.blocks * 8, static_cast<uint64_t>(t.rows * t.cols)) << t.name;
    blocks += t.blocks;
  }
  EXPECT_EQ(report.blocks, blocks);
  EXPECT_GT(report.quant_seconds, 0.0);
  EXPECT_LE(report.quant_seconds + report.calib_seconds, report.seconds);
  const std::string path = temp_path("rt.gguf");
  save_gguf(m, path);
  const LlamaModel back = load_model(path);
  ASSERT_EQ(back.layers.size(), m.layers.size());
  for (size_t l = 0; l < m.layers.size(); ++l) {
    EXPECT_EQ(back.layers[l].wq->dense_weight(), m.layers[l].wq->dense_weight());
    EXPECT_EQ(back.layers[l].w2->dense_weight(), m.layers[l].w2->dense_weight());
    EXPECT_DOUBLE_EQ(back.layers[l].w2->bits_per_weight(), m.layers[l].w2->bits_per_weight());
  }
  const auto tokens = text_tokens(64);
  LlamaRunner a(m, 64), b(back, 64);
  EXPECT_EQ(a.forward_window(tokens), b.forward_window(tokens));
  // The file states its exact rate.
  const auto file = gguf::File::read(path);
  EXPECT_DOUBLE_EQ(file.get("llvq.bpw").as_double("llvq.bpw"), report.bpw);
  std::remove(path.c_str());
}

TEST(QuantizedModel, SlowQuantizedStoriesHasAFinitePerplexityAboveTheOriginal) {
  const auto tokens = text_tokens(4096);
  PerplexityOptions po;
  po.ctx = 256;
  LlamaModel base = load_model(kModel);
  const double ppl0 = evaluate_perplexity(base, tokens, po).ppl;
  LlamaModel m = base;
  ModelQuantOptions o;
  o.tensor.codec = "scalar:bpw=4,kind=uniform,group=32";
  o.progress = false;
  o.calib_ctx = 256;
  quantize_model(m, text_tokens(2048), o);
  const double ppl4 = evaluate_perplexity(m, tokens, po).ppl;
  EXPECT_TRUE(std::isfinite(ppl4));
  EXPECT_GT(ppl4, ppl0);             // quantization costs something
  EXPECT_LT(ppl4, ppl0 * 1.25);      // 4.5 bits per weight costs little on this model
}

TEST(QuantizedModel, CorruptQuantizedFileIsRejected) {
  LlamaModel m = load_model(kModel);
  ModelQuantOptions o;
  o.tensor.codec = "e8p";
  o.tensor.rounding = Rounding::Rtn;
  o.progress = false;
  quantize_model(m, {}, o);
  const std::string path = temp_path("bad.gguf");
  save_gguf(m, path);
  EXPECT_THROW(save_gguf(m, path), InputError);  // never overwrites without being asked
  auto bytes = [&] {
    std::ifstream f(path, std::ios::binary);
    return std::vector<char>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  }();
  // Truncations anywhere give a clean InputError, never a crash.
  for (size_t cut : {bytes.size() / 3, bytes.size() / 2, bytes.size() - 100}) {
    const std::string p2 = temp_path("cut.gguf");
    std::ofstream(p2, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(cut));
    EXPECT_THROW(load_model(p2), InputError);
    std::remove(p2.c_str());
  }
  std::remove(path.c_str());
}
}  // namespace
