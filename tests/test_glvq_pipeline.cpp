// GLVQ inside the quantization pipeline: quantize_tensor with a "glvq:" spec, GLVQ's kind of
// QuantizedTensor, its GGUF storage and a whole-model round trip (the CLI:
// cli/test_glvq_cli.cpp).
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <cstring>
#include <functional>
#include <fstream>
#include <random>

#include "llvq/error.hpp"
#include "llvq/gguf.hpp"
#include "llvq/glvq.hpp"
#include "llvq/half.hpp"
#include "llvq/llama.hpp"
#include "llvq/model_io.hpp"
#include "llvq/quantized_model.hpp"
#include "llvq/tokenizer.hpp"
#include "glvq_test_util.hpp"
#include "model_test_util.hpp"

namespace {
using namespace llvq;

struct Layer {
  RowMatrixD w;
  Eigen::MatrixXd h;
};

// W with correlated neighbouring columns and H = XᵀX/N of mixed Gaussian inputs, so the
// Hessian metric differs from the identity and the rotation matters.
Layer random_layer(int64_t rows, int64_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n;
  Layer l;
  l.w.resize(rows, cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) l.w(r, c) = 0.02 * n(rng) + (c ? 0.5 * l.w(r, c - 1) : 0.0);
  Eigen::MatrixXd x(4 * cols, cols), a(cols, cols);
  for (auto* m : {&x, &a})
    for (Eigen::Index i = 0; i < m->size(); ++i) m->data()[i] = n(rng);
  x = x * (Eigen::MatrixXd::Identity(cols, cols) + 0.3 * a);
  l.h = x.transpose() * x / static_cast<double>(x.rows());
  return l;
}

std::vector<float> to_floats(const RowMatrixD& w) {
  std::vector<float> out(static_cast<size_t>(w.size()));
  for (Eigen::Index r = 0; r < w.rows(); ++r)
    for (Eigen::Index c = 0; c < w.cols(); ++c) out[static_cast<size_t>(r * w.cols() + c)] = static_cast<float>(w(r, c));
  return out;
}

RowMatrixD to_matrix(const std::vector<float>& v, int64_t rows, int64_t cols) {
  RowMatrixD m(rows, cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) m(r, c) = v[static_cast<size_t>(r * cols + c)];
  return m;
}

// GLVQ's own form of a stored GLVQ tensor, from its code blobs.
GlvqTensor glvq_form(const QuantizedTensor& t) {
  return GlvqTensor::from_blobs(t.header().codec, t.header().rows, t.header().cols, t.code_blobs());
}

TensorQuantResult quantize(const Layer& l, const std::string& spec, HadamardMode hadamard = HadamardMode::In) {
  TensorQuantOptions o;
  o.codec = spec;
  o.hadamard = hadamard;
  o.hadamard_seed = 11;
  const auto w = to_floats(l.w);
  return quantize_tensor(w.data(), l.w.rows(), l.w.cols(), l.h, o);
}

// The stories260K widths (64 and 172) at D = 8 and 24: the stored form pads to a multiple of
// D, the bit count is exact, and the reported error — measured by the quantizer in the
// rotated basis — equals the error of the dequantized weights in the original basis.
TEST(GlvqPipeline, QuantizesStoriesWidthsThroughTheRotation) {
  struct Case {
    int64_t cols;
    int dim, group;
  };
  for (const Case& c : {Case{64, 8, 128}, Case{172, 8, 64}, Case{64, 24, 96}, Case{172, 24, 96}}) {
    SCOPED_TRACE("cols " + std::to_string(c.cols) + " dim " + std::to_string(c.dim));
    const Layer l = random_layer(20, c.cols, 3 + static_cast<uint64_t>(c.cols));
    const std::string spec =
        "glvq:dim=" + std::to_string(c.dim) + ",group=" + std::to_string(c.group) + ",bits=2,iterations=25";
    const TensorQuantResult res = quantize(l, spec);
    const QuantizedTensor& t = *res.tensor;
    const TensorHeader& h = t.header();
    EXPECT_EQ(h.codec, GlvqConfig::parse(spec).spec());
    EXPECT_EQ(h.body_cols, (c.cols + c.dim - 1) / c.dim * c.dim);
    EXPECT_EQ(h.padding(), h.body_cols - c.cols);
    EXPECT_EQ(res.layout, h.padding() ? "pad" : "exact");
    EXPECT_TRUE(h.tail_codec.empty());
    EXPECT_EQ(t.code_blobs(), glvq_form(t).to_blobs());
    EXPECT_NO_THROW(t.validate("t"));
    EXPECT_EQ(t.payload_bits(), test::glvq_payload_bits(20, c.cols, c.dim, c.group, 2, true));
    EXPECT_DOUBLE_EQ(t.bits_per_weight(), static_cast<double>(t.payload_bits()) / (20.0 * static_cast<double>(c.cols)));
    const RowMatrixD back = to_matrix(t.dequantize(), 20, c.cols);
    const double err = relative_weighted_error(l.w, back, l.h);
    EXPECT_NEAR(res.weighted_error, err, 1e-4 * err);  // the rotation runs in fp32
    EXPECT_LE(res.weighted_error, res.weighted_error_init);
    EXPECT_LT(err, 0.5);  // 2 bits per weight keep most of the signal
  }
}

// Without a rotation the stored GLVQ tensor is the tensor itself; with one, dequantize()
// undoes it (the rotated and unrotated results differ, both match their own GLVQ decode).
TEST(GlvqPipeline, DequantizeUndoesTheHadamardRotation) {
  const Layer l = random_layer(16, 64, 5);
  const TensorQuantResult plain = quantize(l, "glvq:dim=8,bits=3,learn=0", HadamardMode::None);
  EXPECT_EQ(plain.tensor->dequantize(), glvq_form(*plain.tensor).dequantize());
  for (HadamardMode m : {HadamardMode::In, HadamardMode::InOut}) {
    const TensorQuantResult rot = quantize(l, "glvq:dim=8,bits=3,learn=0", m);
    EXPECT_NE(rot.tensor->dequantize(), glvq_form(*rot.tensor).dequantize());
    const double err = relative_weighted_error(l.w, to_matrix(rot.tensor->dequantize(), 16, 64), l.h);
    EXPECT_NEAR(rot.weighted_error, err, 1e-4 * err);
  }
}

TEST(GlvqPipeline, RejectsOptionsThatDoNotApply) {
  const Layer l = random_layer(8, 64, 7);
  const auto w = to_floats(l.w);
  TensorQuantOptions o;
  o.codec = "glvq:dim=8,bits=2";
  for (Rounding r : {Rounding::Rtn, Rounding::SphericalGptq}) {
    o.rounding = r;
    EXPECT_THROW(check_options(o), InputError);
    EXPECT_THROW(quantize_tensor(w.data(), 8, 64, l.h, o), InputError);
  }
  o.rounding = Rounding::Gptq;
  o.tail = TailMode::Codec;
  EXPECT_THROW(quantize_tensor(w.data(), 8, 64, l.h, o), InputError);
  o.tail = TailMode::Pad;
  EXPECT_NO_THROW(check_options(o));
  for (const char* bad : {"glvq:dim=7", "glvq:dim=24,group=128", "glvq:bits=2,colour=red", "glvqx"}) {
    o.codec = bad;
    EXPECT_THROW(check_options(o), InputError) << bad;
  }
  EXPECT_FALSE(takes_rounding("glvq"));
  EXPECT_FALSE(takes_rounding("glvq:dim=24"));
  EXPECT_TRUE(takes_rounding("e8p"));
  EXPECT_THROW(canonical_codec_spec("glvqx"), InputError);
  EXPECT_EQ(canonical_codec_spec("glvq"), GlvqConfig{}.spec());
  EXPECT_EQ(canonical_codec_spec("e8p"), "e8p:factor=0.965");
}

// A stored GLVQ tensor is made from its header and code blobs only when they agree.
TEST(GlvqPipeline, InconsistentStoredFormIsRejected) {
  const Layer l = random_layer(12, 40, 9);
  const auto good = quantize(l, "glvq:dim=8,group=16,bits=2,learn=0").tensor;
  ASSERT_NO_THROW(make_quantized_tensor(good->header(), good->code_blobs(), "t"));
  using Corruption = std::function<void(TensorHeader&, CodeBlobs&)>;
  // A change to GLVQ's own form, serialised again.
  const auto in_form = [](const std::function<void(GlvqTensor&)>& change) -> Corruption {
    return [change](TensorHeader& h, CodeBlobs& blobs) {
      GlvqTensor g = GlvqTensor::from_blobs(h.codec, h.rows, h.cols, blobs);
      change(g);
      blobs = g.to_blobs();
    };
  };
  const std::vector<std::pair<std::string, Corruption>> corruptions = {
      {"body width", [](TensorHeader& h, CodeBlobs&) { h.body_cols += 8; }},
      {"tail", [](TensorHeader& h, CodeBlobs&) { h.tail_codec = "e8p"; }},
      {"other spec",
       [](TensorHeader& h, CodeBlobs&) { h.codec = GlvqConfig::parse("glvq:dim=8,group=16,bits=3").spec(); }},
      {"row codec", [](TensorHeader& h, CodeBlobs&) { h.codec = "e8p"; }},
      {"row codes", [](TensorHeader&, CodeBlobs& b) { b.emplace_back("body", std::vector<uint8_t>{0}); }},
      {"shape", [](TensorHeader& h, CodeBlobs&) { h.rows += 1; }},
      {"mu", in_form([](GlvqTensor& g) { g.mu_fp16[0] = float_to_fp16(300.0f); })},
      {"G", in_form([](GlvqTensor& g) { g.g_fp16[3] = 0x7E00; })},  // NaN
      {"codes", in_form([](GlvqTensor& g) { g.codes.pop_back(); })},
      {"bits", in_form([](GlvqTensor& g) { g.group_bits[0] += 1; })},
      {"no codes", [](TensorHeader&, CodeBlobs& b) { b.clear(); }},
  };
  for (const auto& [what, corrupt] : corruptions) {
    TensorHeader h = good->header();
    CodeBlobs blobs = good->code_blobs();
    corrupt(h, blobs);
    EXPECT_THROW(make_quantized_tensor(h, blobs, "t"), InputError) << what;
  }
}

const std::string kName = "blk.0.ffn_down.weight";

gguf::File write_layer(const QuantizedLinear& q, const std::function<void(gguf::Writer&)>& extra = {}) {
  gguf::Writer w;
  q.write_gguf(w, kName);
  if (extra) extra(w);
  return gguf::File::parse(w.serialize(), "mem.gguf");
}

// The GGUF form: I8 blobs under N.llvq_glvq_*, read back bit for bit; a corrupt blob, a
// stray blob or a shape mismatch is an InputError naming the tensor.
TEST(GlvqPipeline, GgufLayerRoundTripAndCorruption) {
  const Layer l = random_layer(24, 172, 13);
  const QuantizedLinear q(quantize(l, "glvq:dim=8,group=64,bits=2,iterations=20").tensor);
  const gguf::File f = write_layer(q);
  ASSERT_TRUE(QuantizedLinear::present_in(f, kName));
  EXPECT_EQ(f.find_tensor(kName + ".llvq_body"), nullptr);
  EXPECT_EQ(f.get("llvq.t." + kName + ".codec").as_string("codec"), q.tensor()->header().codec);
  const auto back = QuantizedLinear::read_gguf(f, kName, 24, 172);
  EXPECT_TRUE(test::bits_equal(back->dense_weight(), q.dense_weight()));
  EXPECT_EQ(back->bits_per_weight(), q.bits_per_weight());
  EXPECT_EQ(back->tensor()->code_blobs(), q.tensor()->code_blobs());
  EXPECT_THROW(QuantizedLinear::read_gguf(f, kName, 24, 64), InputError);

  // Overwrite the first two bytes of a blob inside the serialised file.
  auto patched = [&](const std::string& blob, uint16_t value) {
    gguf::Writer w;
    q.write_gguf(w, kName);
    std::vector<uint8_t> bytes = w.serialize();
    const gguf::File clean = gguf::File::parse(bytes, "clean");
    const size_t at = clean.data_offset() + clean.tensor(kName + ".llvq_glvq_" + blob).offset;
    std::memcpy(bytes.data() + at, &value, 2);
    return gguf::File::parse(bytes, "corrupt.gguf");
  };
  for (const auto& [blob, value] : std::vector<std::pair<std::string, uint16_t>>{
           {"mu", float_to_fp16(1000.0f)}, {"scale", float_to_fp16(-1.0f)}, {"g", 0x7C00}, {"bits", 0x0909}}) {
    try {
      QuantizedLinear::read_gguf(patched(blob, value), kName, 24, 172);
      ADD_FAILURE() << "corrupt " << blob << " was accepted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(kName), std::string::npos) << e.what();
    }
  }
  const gguf::File stray = write_layer(q, [](gguf::Writer& w) {
    w.add_tensor(kName + ".llvq_glvq_extra", {4}, gguf::TensorType::I8, {1, 2, 3, 4});
  });
  EXPECT_THROW(QuantizedLinear::read_gguf(stray, kName, 24, 172), InputError);
}

// row_scale=1 adds the blob N.llvq_glvq_row_scale (fp16 per row): read back bit for bit and
// counted in the rate; a zero, negative or non-finite scale in the file is an InputError
// naming the tensor; a file written without row scales (the older format) still loads.
TEST(GlvqPipeline, GgufRowScaleBlobRoundTripAndCorruption) {
  const Layer l = random_layer(24, 172, 17);
  const QuantizedLinear q(quantize(l, "glvq:dim=8,group=64,bits=2,iterations=20,row_scale=1,feedback=1").tensor);
  const gguf::File f = write_layer(q);
  ASSERT_NE(f.find_tensor(kName + ".llvq_glvq_row_scale"), nullptr);
  const auto back = QuantizedLinear::read_gguf(f, kName, 24, 172);
  EXPECT_TRUE(test::bits_equal(back->dense_weight(), q.dense_weight()));
  EXPECT_EQ(glvq_form(*back->tensor()).row_scale_fp16, glvq_form(*q.tensor()).row_scale_fp16);
  EXPECT_EQ(q.tensor()->payload_bits(), test::glvq_payload_bits(24, 172, 8, 64, 2, true) + 16u * 24u);
  EXPECT_EQ(back->bits_per_weight(), q.bits_per_weight());

  for (uint16_t bad : {uint16_t{0x0000}, float_to_fp16(-2.0f), uint16_t{0x7C00}, uint16_t{0x7E00}}) {
    gguf::Writer w;
    q.write_gguf(w, kName);
    std::vector<uint8_t> bytes = w.serialize();
    const gguf::File clean = gguf::File::parse(bytes, "clean");
    const size_t at = clean.data_offset() + clean.tensor(kName + ".llvq_glvq_row_scale").offset + 2 * 5;  // row 5
    std::memcpy(bytes.data() + at, &bad, 2);
    try {
      QuantizedLinear::read_gguf(gguf::File::parse(bytes, "corrupt.gguf"), kName, 24, 172);
      ADD_FAILURE() << "row scale " << bad << " was accepted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(kName), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("row 5"), std::string::npos) << e.what();
    }
  }
  const gguf::File old_format = write_layer(QuantizedLinear(quantize(l, "glvq:dim=8,group=64,bits=2,iterations=20").tensor));
  EXPECT_EQ(old_format.find_tensor(kName + ".llvq_glvq_row_scale"), nullptr);
  EXPECT_NO_THROW(QuantizedLinear::read_gguf(old_format, kName, 24, 172));
}

std::vector<int32_t> story_tokens(size_t n) {
  std::ifstream f(test::data_file("text/tinystories_val.txt"));
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  text.resize(std::min(text.size(), n * 6));
  Tokenizer tok(load_llama2c_tokenizer(test::stories_tok()));
  auto t = tok.encode(text, true, false);
  t.resize(std::min(t.size(), n));
  return t;
}

// stories260K quantized with GLVQ (calibrated) → GGUF → loaded: the same weights bit for bit,
// the same logits, and the file's exact rate.
TEST(GlvqPipeline, SlowStoriesGgufRoundTripIsBitExact) {
  LlamaModel m = load_model(test::stories_bin());
  m.tokenizer = load_llama2c_tokenizer(test::stories_tok());
  ModelQuantOptions o;
  o.tensor.codec = "glvq:dim=8,group=64,bits=2,iterations=15";
  o.progress = false;
  o.calib_ctx = 128;
  const ModelQuantReport report = quantize_model(m, story_tokens(512), o);
  ASSERT_EQ(report.tensors.size(), 35u);
  for (const TensorReport& t : report.tensors) {
    EXPECT_LT(t.weighted_error, 0.5) << t.name;
    EXPECT_EQ(t.layout, t.cols == 172 ? "pad" : "exact") << t.name;  // 172 → 176 columns
  }
  test::TempDir dir("glvq_rt");
  const std::string path = dir.file("glvq.gguf");
  save_gguf(m, path);
  const LlamaModel back = load_model(path);
  ASSERT_EQ(back.layers.size(), m.layers.size());
  for (size_t i = 0; i < m.layers.size(); ++i) {
    test::expect_linear_equal(back.layers[i].wq, m.layers[i].wq, "wq");
    test::expect_linear_equal(back.layers[i].w2, m.layers[i].w2, "w2");
    EXPECT_DOUBLE_EQ(back.layers[i].w2->bits_per_weight(), m.layers[i].w2->bits_per_weight());
  }
  const auto tokens = story_tokens(48);
  LlamaRunner a(m, 48), b(back, 48);
  EXPECT_EQ(a.forward_window(tokens), b.forward_window(tokens));
  EXPECT_DOUBLE_EQ(gguf::File::read(path).get("llvq.bpw").as_double("llvq.bpw"), report.bpw);
}

}  // namespace
