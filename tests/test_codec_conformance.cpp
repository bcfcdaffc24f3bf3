// Conformance of every registered codec (codec_catalog()) to the Codec contract: round trip,
// canonical spec, exact bit accounting, kernels equal to the reference at every ISA level the
// CPU runs, and the stored GGUF form of a quantized matrix. A codec registered in
// src/codec/codec.cpp is tested here with its default parameters without any edit to this
// file; kVariants adds the parameter choices that take other code paths.
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "codec_test_util.hpp"
#include "files.hpp"
#include "floats.hpp"
#include "kernel_checks.hpp"
#include "llvq/bitstream.hpp"
#include "llvq/codec.hpp"
#include "llvq/error.hpp"
#include "llvq/gguf.hpp"
#include "llvq/kernels.hpp"
#include "llvq/quantize.hpp"
#include "llvq/quantized_model.hpp"
#include "random.hpp"

namespace {

using llvq::kernels::Isa;

// Per registered codec name, specs beyond the defaults: other rates, grouped scales, other
// block sizes, the Voronoi form of llvq-ss, the 3- and 4-bit llvq-sg. Codecs missing here still run with their defaults.
const std::map<std::string, std::vector<std::string>> kVariants = {
    {"scalar", {"scalar:bpw=3,kind=uniform", "scalar:bpw=4,group=32"}},
    {"e8p", {"e8p:group=32"}},
    {"pvq", {"pvq:bpw=3,dim=16", "pvq:k=4,group=48"}},
    {"llvq-sg", {"llvq-sg:shells=5,gain_bits=0", "llvq-sg:bpw=2,group=48", "llvq-sg:bpw=3", "llvq-sg:bpw=4"}},
    {"llvq-ss", {"llvq-ss:shells=5", "llvq-ss:bpw=3"}},
    {"l24sq", {"l24sq:gain_bits=2,group=48"}},
};

// Every registered codec by its bare name (its defaults), then its variants.
std::vector<std::string> conformance_specs() {
  std::vector<std::string> specs;
  for (const auto& entry : llvq::codec_catalog()) {
    specs.push_back(entry.first);
    if (const auto it = kVariants.find(entry.first); it != kVariants.end())
      specs.insert(specs.end(), it->second.begin(), it->second.end());
  }
  return specs;
}

// Small matrices keep the suite fast: 5 rows (no multiple of any kernel tile) of the shortest
// row of at least 96 weights that the codec's block and group accept.
constexpr size_t kRows = 5;
size_t row_length(const llvq::Codec& codec) { return llvq::smallest_row_length(codec, 96, 4096); }

std::string test_name(const std::string& spec) {
  std::string out;
  for (char c : spec) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

class CodecConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    codec_ = llvq::shared_codec(GetParam());
    n_ = row_length(*codec_);
    weights_ = llvq::test::gaussian(kRows * n_, 17, 0.02);  // a typical weight magnitude
  }
  std::shared_ptr<const llvq::Codec> codec_;
  size_t n_ = 0;
  std::vector<float> weights_;
};

// Encode → decode through every entry point gives the same blocks (check_round_trip), and
// the dequantized weights carry information about the input: a relative MSE below 1, the
// score of an all-zero output. (Rates here go down to 0.75 bits per weight, so no tighter
// bound holds for every codec; the codecs' own tests check their measured MSE.)
TEST_P(CodecConformance, RoundTrip) {
  const double mse = codec_test::check_round_trip(*codec_, kRows, n_, 23);
  EXPECT_LT(mse, 1.0) << codec_->spec();
}

// spec() is canonical: it parses back to a codec with the same spec, the same layout and the
// same codes.
TEST_P(CodecConformance, CanonicalSpecRoundTrip) {
  const std::string canonical = codec_->spec();
  EXPECT_EQ(llvq::CodecSpec::parse(canonical).name(), codec_->name());
  const auto rebuilt = llvq::make_codec(canonical);
  EXPECT_EQ(rebuilt->spec(), canonical);
  EXPECT_EQ(rebuilt->block_dim(), codec_->block_dim());
  EXPECT_EQ(rebuilt->block_bits(), codec_->block_bits());
  EXPECT_EQ(rebuilt->side_bits(n_), codec_->side_bits(n_));
  EXPECT_EQ(rebuilt->encode_rows(weights_.data(), kRows, n_), codec_->encode_rows(weights_.data(), kRows, n_));
}

// The stated rate is the written one, to the bit: side information and every block write
// exactly side_bits() and block_bits(), a row exactly row_bits(), and the decoder reads
// exactly that many. Packed rows take ⌈rows·row_bits / 8⌉ bytes with zero padding.
TEST_P(CodecConformance, BitsPerWeightAccounting) {
  const llvq::Codec& c = *codec_;
  const size_t row_bits = c.row_bits(n_);
  EXPECT_EQ(row_bits, c.blocks_per_row(n_) * c.block_bits() + c.side_bits(n_));
  EXPECT_EQ(c.bits_per_weight(n_), static_cast<double>(row_bits) / static_cast<double>(n_));

  const llvq::RowSide side = c.fit_side(weights_.data(), n_);
  llvq::BitWriter out;
  c.write_side(side, out);
  EXPECT_EQ(out.size_bits(), c.side_bits(n_));
  std::vector<float> xhat(c.block_dim());
  for (size_t j = 0; j < c.blocks_per_row(n_); ++j) {
    c.quantize_block(side, j, &weights_[j * c.block_dim()], xhat.data(), out);
    EXPECT_EQ(out.size_bits(), c.side_bits(n_) + (j + 1) * c.block_bits()) << "block " << j;
  }
  EXPECT_EQ(out.size_bits(), row_bits);

  const auto bytes = out.bytes();
  llvq::BitReader in(bytes.data(), bytes.size());
  std::vector<float> back(n_);
  c.decode_row(in, n_, back.data());
  EXPECT_EQ(in.position(), row_bits);

  const auto packed = c.encode_rows(weights_.data(), kRows, n_);
  const size_t total = kRows * row_bits;
  ASSERT_EQ(packed.size(), (total + 7) / 8);
  if (total % 8 != 0) {
    EXPECT_EQ(packed.back() >> (total % 8), 0) << "padding bits are not zero";
  }
}

// For codecs with kernels: pack() keeps the bitstream; the scalar kernel (the kernels'
// reference) decodes as Codec::decode_rows does, to within one float rounding (bit for bit
// for most codecs; the Leech ball decoder applies its scale in another order); every
// supported ISA level decodes bit for bit as the scalar kernel, also through the threaded
// driver, and computes W·x within float rounding of the double-precision product. Codecs
// without kernels are refused by pack().
TEST_P(CodecConformance, KernelsEqualReferenceAtEveryIsa) {
  const llvq::Codec& c = *codec_;
  const auto codes = c.encode_rows(weights_.data(), kRows, n_);
  const auto rows = static_cast<int64_t>(kRows), cols = static_cast<int64_t>(n_);
  if (!llvq::kernels::has_kernels(c)) {
    EXPECT_THROW(llvq::kernels::pack(c, codes.data(), codes.size(), rows, cols), llvq::InputError);
    return;
  }
  const auto m = llvq::kernels::pack(c, codes.data(), codes.size(), rows, cols);
  EXPECT_EQ(m->to_codes(), codes);
  EXPECT_EQ(m->codec_spec(), c.spec());
  EXPECT_EQ(m->rows(), rows);
  EXPECT_EQ(m->cols(), cols);

  std::vector<float> codec_decoded(kRows * n_), reference(kRows * n_, NAN);
  c.decode_rows(codes.data(), codes.size(), kRows, n_, codec_decoded.data());
  m->decode_rows(0, rows, reference.data(), Isa::Scalar);
  for (size_t i = 0; i < reference.size(); ++i)
    ASSERT_LE(std::abs(reference[i] - codec_decoded[i]), std::abs(codec_decoded[i]) * 1.2e-7f) << "weight " << i;

  const auto x = llvq::test::gaussian(n_, 29);
  for (Isa isa : llvq::test::supported_isas()) {
    const std::string level = llvq::kernels::to_string(isa);
    std::vector<float> decoded(reference.size(), NAN);
    m->decode_rows(0, rows, decoded.data(), isa);
    EXPECT_TRUE(llvq::test::bits_equal(decoded, reference)) << level;

    std::vector<float> y(kRows, NAN);
    m->gemv_rows(x.data(), 0, rows, y.data(), isa);
    llvq::test::expect_gemv_close(y, codec_decoded, x, rows, cols, level);

    // The whole-matrix drivers run the forced level.
    const llvq::kernels::IsaScope scope(isa);
    std::vector<float> driven(reference.size(), NAN);
    llvq::kernels::decode(*m, driven.data(), 2);
    EXPECT_TRUE(llvq::test::bits_equal(driven, reference)) << level;
  }
}

// A quantized matrix written as a GGUF file and read back has the same codes, codec and rate,
// and dequantizes to the same weights bit for bit, which are the codec's decode of its codes.
TEST_P(CodecConformance, StoredTensorGgufRoundTrip) {
  llvq::TensorQuantOptions options;
  options.codec = GetParam();
  options.rounding = llvq::Rounding::Rtn;
  options.hadamard = llvq::HadamardMode::None;
  const auto rows = static_cast<int64_t>(kRows), cols = static_cast<int64_t>(n_);
  const llvq::QuantizedLinear layer(llvq::quantize_tensor(weights_.data(), rows, cols, {}, options).tensor);
  const llvq::QuantizedTensor& stored = *layer.tensor();
  ASSERT_EQ(stored.header().codec, codec_->spec());
  ASSERT_TRUE(stored.header().tail_codec.empty()) << "a row length the codec accepts needs no tail";
  EXPECT_EQ(stored.payload_bits(), kRows * codec_->row_bits(n_));

  const llvq::test::TempDir dir("conformance");
  const std::string name = "blk.0.attn_q.weight", path = dir.file("layer.gguf");
  llvq::gguf::Writer writer;
  layer.write_gguf(writer, name);
  writer.write(path);
  const llvq::gguf::File file = llvq::gguf::File::read(path);
  ASSERT_TRUE(llvq::QuantizedLinear::present_in(file, name));
  const auto back = llvq::QuantizedLinear::read_gguf(file, name, rows, cols);

  EXPECT_EQ(back->tensor()->header().codec, stored.header().codec);
  EXPECT_EQ(back->tensor()->header().body_cols, stored.header().body_cols);
  const llvq::CodeBlobs blobs = stored.code_blobs();
  EXPECT_EQ(back->tensor()->code_blobs(), blobs);
  EXPECT_EQ(back->bits_per_weight(), codec_->bits_per_weight(n_));
  const std::vector<float> weights = back->dense_weight();
  EXPECT_TRUE(llvq::test::bits_equal(weights, layer.dense_weight()));
  ASSERT_EQ(blobs.front().first, "body");
  const std::vector<uint8_t>& body = blobs.front().second;
  std::vector<float> decoded(kRows * n_);
  codec_->decode_rows(body.data(), body.size(), kRows, n_, decoded.data());
  EXPECT_TRUE(llvq::test::bits_equal(weights, decoded));
}

INSTANTIATE_TEST_SUITE_P(Catalog, CodecConformance, ::testing::ValuesIn(conformance_specs()),
                         [](const auto& info) { return test_name(info.param); });

// The variants table names registered codecs only, so none of its specs is silently dropped.
TEST(CodecConformanceTable, VariantsNameRegisteredCodecs) {
  std::map<std::string, bool> registered;
  for (const auto& entry : llvq::codec_catalog()) registered[entry.first] = true;
  for (const auto& [name, specs] : kVariants) {
    EXPECT_TRUE(registered.count(name)) << name << " is not in codec_catalog()";
    for (const std::string& spec : specs) EXPECT_EQ(llvq::make_codec(spec)->name(), name) << spec;
  }
}

}  // namespace
