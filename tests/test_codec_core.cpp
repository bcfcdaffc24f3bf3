// The codec interface: spec parsing, bit packing, the container, the scalar codec (the CLI:
// cli/test_codec_cli.cpp).
#include <gtest/gtest.h>

#include <cmath>

#include "codec_test_util.hpp"
#include "llvq/codec_container.hpp"
#include "llvq/error.hpp"

namespace {

using llvq::InputError;

TEST(CodecSpec, ParsesNameAndParameters) {
  const auto s = llvq::CodecSpec::parse("scalar:bpw=3,kind=uniform");
  EXPECT_EQ(s.name(), "scalar");
  EXPECT_EQ(s.get_int("bpw", 2, 1, 8), 3);
  EXPECT_EQ(s.get_choice("kind", "lloyd", {"uniform", "lloyd"}), "uniform");
  EXPECT_EQ(s.get_int("group", 0, 0, 100), 0);  // absent: the default
  EXPECT_NO_THROW(s.check_all_used());
  EXPECT_EQ(llvq::CodecSpec::parse("e8p").name(), "e8p");
}

TEST(CodecSpec, RejectsMalformedSpecs) {
  for (const char* bad : {"", ":bpw=2", "scalar:", "scalar:bpw", "scalar:bpw=2,", "scalar:bpw=2,bpw=3",
                          "Scalar", "scalar:bpw=2;x", "scalar:=2"})
    EXPECT_THROW(llvq::CodecSpec::parse(bad), InputError) << bad;
}

TEST(CodecSpec, InvalidParametersGiveClearErrors) {
  for (const char* bad : {"scalar:bpw=0", "scalar:bpw=9", "scalar:bpw=two", "scalar:kind=cubic", "scalar:colour=red",
                          "nosuchcodec", "e8p:group=12", "e8p:factor=-1"})
    EXPECT_THROW(llvq::make_codec(bad), InputError) << bad;
  try {
    llvq::make_codec("scalar:bpw=2,bits=3");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown parameter 'bits'"), std::string::npos) << e.what();
  }
}

TEST(CodecSpec, CanonicalSpecRebuildsTheSameCodec) {
  for (const char* s : {"scalar", "scalar:bpw=3,kind=uniform,group=32", "e8p", "e8p:group=64"}) {
    const auto c = llvq::make_codec(s);
    EXPECT_EQ(llvq::make_codec(c->spec())->spec(), c->spec()) << s;
  }
}

TEST(BitStream, FieldsOfEveryWidthRoundTrip) {
  std::mt19937_64 rng(7);
  std::vector<std::pair<uint64_t, int>> fields;
  llvq::BitWriter w;
  size_t total = 0;
  for (int i = 0; i < 2000; ++i) {
    const int nbits = static_cast<int>(rng() % 65);
    const uint64_t v = nbits == 64 ? rng() : rng() & ((uint64_t{1} << nbits) - 1);
    fields.emplace_back(v, nbits);
    w.put(v, nbits);
    total += static_cast<size_t>(nbits);
  }
  EXPECT_EQ(w.size_bits(), total);
  const auto bytes = w.bytes();
  EXPECT_EQ(bytes.size(), (total + 7) / 8);
  llvq::BitReader r(bytes.data(), bytes.size());
  for (const auto& [v, nbits] : fields) ASSERT_EQ(r.get(nbits), v);
  EXPECT_LT(r.remaining(), 8u);
  EXPECT_THROW(r.get(8), InputError);
}

TEST(BitStream, ReadingPastAWindowThrows) {
  const std::vector<uint8_t> bytes(4, 0xFF);
  llvq::BitReader r(bytes.data(), bytes.size(), 3, 20);
  EXPECT_EQ(r.get(17), (1u << 17) - 1);
  EXPECT_THROW(r.get(1), InputError);
  EXPECT_THROW(llvq::BitReader(bytes.data(), bytes.size(), 0, 33), InputError);
}

TEST(ScalarCodec, LloydMaxLevelsMatchTheClosedFormOptimum) {
  // Max (1960): the 4-level Gaussian optimum has levels ±0.4528, ±1.5104 and MSE 0.1175.
  const auto c = llvq::make_codec("scalar:bpw=2,kind=lloyd");
  const llvq::RowSide side{1, {1.0f}};
  float out;
  for (auto [x, level] : {std::pair{0.1f, 0.4528f}, {0.95f, 0.4528f}, {1.0f, 1.5104f}, {-3.0f, -1.5104f}}) {
    c->quantize_dequantize_block(side, 0, &x, &out);
    EXPECT_NEAR(out, level, 2e-4) << x;
  }
}

TEST(ScalarCodec, RoundTripsAtEveryRateAndKind) {
  for (int bits = 1; bits <= 8; ++bits)
    for (const char* kind : {"uniform", "lloyd"}) {
      const auto c = llvq::make_codec("scalar:bpw=" + std::to_string(bits) + ",kind=" + kind + ",group=32");
      const double rel = codec_test::check_round_trip(*c, 3, 256, 11 + bits);
      // Panter–Dite high-rate bound (√3·π/2 ≈ 2.72)·2^(−2b), plus slack for 32-weight scales.
      EXPECT_LT(rel, 2.8 * std::exp2(-2.0 * bits) + 0.01) << c->spec();
      EXPECT_DOUBLE_EQ(c->bits_per_weight(256), bits + 16.0 / 32);
    }
}

TEST(ScalarCodec, ZeroRowsAndBadRowsAreHandled) {
  const auto c = llvq::make_codec("scalar:group=32");
  std::vector<float> zeros(64, 0.0f), back(64, 1.0f);
  const auto packed = c->encode_rows(zeros.data(), 1, 64);
  c->decode_rows(packed.data(), packed.size(), 1, 64, back.data());
  EXPECT_EQ(back, zeros);
  EXPECT_THROW(c->encode_rows(zeros.data(), 1, 48), InputError);  // not a multiple of the group
  std::vector<float> nan(32, NAN);
  EXPECT_THROW(c->encode_rows(nan.data(), 1, 32), InputError);
  EXPECT_THROW(c->decode_rows(packed.data(), packed.size() - 1, 1, 64, back.data()), InputError);
}

TEST(Container, RoundTripsAndRejectsEveryCorruption) {
  const auto codec = llvq::make_codec("scalar:bpw=3,group=64");
  const auto w = llvq::test::gaussian(512, 5);
  const auto c = llvq::encode_container(*codec, w.data(), w.size(), 128);
  const auto bytes = llvq::serialize_container(c);
  const auto parsed = llvq::parse_container(bytes);
  EXPECT_EQ(parsed.spec, codec->spec());
  EXPECT_EQ(llvq::decode_container(parsed), llvq::decode_container(c));
  for (size_t len = 0; len < bytes.size(); ++len)  // every truncation
    EXPECT_THROW(llvq::parse_container(std::vector<uint8_t>(bytes.begin(), bytes.begin() + len)), InputError) << len;
  for (size_t i = 0; i < bytes.size(); ++i) {  // every single-byte corruption
    auto bad = bytes;
    bad[i] ^= 0x5A;
    EXPECT_THROW(llvq::parse_container(bad), InputError) << i;
  }
}

}  // namespace
