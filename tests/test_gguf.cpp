#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <map>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "llvq/gguf.hpp"
#include "llvq/half.hpp"
#include "llvq/llama.hpp"
#include "llvq/model_io.hpp"
#include "llvq/tokenizer.hpp"
#include "model_test_util.hpp"

namespace {
using namespace llvq;
using namespace llvq::gguf;
using namespace llvq::test;

// ---------------------------------------------------------------------------- fp16 / bf16

// Every one of the 65536 halves against the closed form (-1)^s · 2^(e-15) · (1 + m/1024).
TEST(Half, Fp16ToFloatMatchesClosedFormExhaustively) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    const float got = fp16_to_float(static_cast<uint16_t>(h));
    if (e == 31) {
      EXPECT_TRUE(m ? std::isnan(got) : std::isinf(got)) << h;
      continue;
    }
    const double mag = e == 0 ? std::ldexp(m, -24) : std::ldexp(1.0 + m / 1024.0, e - 15);
    ASSERT_EQ(static_cast<double>(got), s ? -mag : mag) << h;
    ASSERT_EQ(std::signbit(got), s == 1) << h;
  }
}

TEST(Half, Fp16RoundsToNearestEven) {
  for (uint32_t h = 0; h < 0x7C00; ++h) {
    const float x = fp16_to_float(static_cast<uint16_t>(h));
    ASSERT_EQ(float_to_fp16(x), h);
    ASSERT_EQ(float_to_fp16(-x), h | 0x8000u);
    if (h == 0x7BFF) continue;  // the next value is infinity: checked below
    // The midpoint to the next half rounds to whichever of the two has an even mantissa;
    // anything above it rounds up. Midpoints are exact in fp32 (11 + 1 bits).
    const float next = fp16_to_float(static_cast<uint16_t>(h + 1));
    const float mid = static_cast<float>((static_cast<double>(x) + next) / 2);
    const uint32_t even = (h % 2 == 0) ? h : h + 1;
    ASSERT_EQ(float_to_fp16(mid), even) << h;
    ASSERT_EQ(float_to_fp16(std::nextafter(mid, INFINITY)), h + 1) << h;
    ASSERT_EQ(float_to_fp16(std::nextafter(mid, 0.0f)), h) << h;
  }
  EXPECT_EQ(float_to_fp16(65520.0f), 0x7C00);  // the midpoint to 2^16 → infinity
  EXPECT_EQ(float_to_fp16(std::nextafter(65520.0f, 0.0f)), 0x7BFF);
  EXPECT_EQ(float_to_fp16(1e30f), 0x7C00);
  EXPECT_EQ(float_to_fp16(-INFINITY), 0xFC00);
  EXPECT_EQ(float_to_fp16(1e-10f), 0);  // below half the smallest subnormal
  EXPECT_TRUE(std::isnan(fp16_to_float(float_to_fp16(std::numeric_limits<float>::quiet_NaN()))));
  // A NaN whose payload sits only in the low mantissa bits must not turn into infinity.
  EXPECT_TRUE(std::isnan(fp16_to_float(float_to_fp16(std::bit_cast<float>(0x7F800001u)))));
}

TEST(Half, Bf16RoundsToNearestEven) {
  std::mt19937 rng(7);
  for (int i = 0; i < 200000; ++i) {
    const auto b = static_cast<uint16_t>(rng() & 0xFFFF);
    const float x = bf16_to_float(b);
    ASSERT_EQ(std::bit_cast<uint32_t>(x), static_cast<uint32_t>(b) << 16);
    if (std::isnan(x)) {
      ASSERT_TRUE(std::isnan(bf16_to_float(float_to_bf16(x))));
      continue;
    }
    ASSERT_EQ(float_to_bf16(x), b);
    if ((b & 0x7FFF) >= 0x7F7F) continue;  // next value is infinity or NaN
    // Halfway between b and b+1 in the fp32 bit pattern: ties go to the even one.
    const float mid = std::bit_cast<float>((static_cast<uint32_t>(b) << 16) | 0x8000u);
    ASSERT_EQ(float_to_bf16(mid), (b % 2 == 0) ? b : b + 1);
    ASSERT_EQ(float_to_bf16(std::nextafter(mid, std::copysign(INFINITY, mid))), b + 1);
  }
  EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(std::bit_cast<float>(0x7F800001u)))));
}

// ---------------------------------------------------------------------------- metadata

Value nested_array() {
  return Value::array(ValueType::ARRAY, {Value::int32s({1, -2, 3}), Value::int32s({}), Value::strings({"a", ""})});
}

Writer every_type_writer() {
  Writer w;
  w.set("t.u8", Value(uint8_t{200}));
  w.set("t.i8", Value(int8_t{-100}));
  w.set("t.u16", Value(uint16_t{65000}));
  w.set("t.i16", Value(int16_t{-32000}));
  w.set("t.u32", Value(uint32_t{4000000000u}));
  w.set("t.i32", Value(int32_t{-2000000000}));
  w.set("t.f32", Value(3.25f));
  w.set("t.bool", Value(true));
  w.set("t.str", Value("héllo ▁world"));
  w.set("t.empty_str", Value(std::string()));
  w.set("t.u64", Value(uint64_t{18000000000000000000ull}));
  w.set("t.i64", Value(int64_t{-9000000000000000000ll}));
  w.set("t.f64", Value(-1.0e300));
  w.set("t.arr_f32", Value::floats({1.5f, -0.0f, std::numeric_limits<float>::infinity()}));
  w.set("t.arr_empty_u16", Value::array(ValueType::UINT16, {}));
  w.set("t.arr_bool", Value::array(ValueType::BOOL, {Value(false), Value(true)}));
  w.set("t.nested", nested_array());
  return w;
}

TEST(Gguf, EveryValueTypeRoundTrips) {
  const Writer w = every_type_writer();
  const File f = File::parse(w.serialize(), "mem.gguf");
  EXPECT_EQ(f.version(), 3u);
  ASSERT_EQ(f.metadata().size(), 17u);
  EXPECT_EQ(f.metadata()[0].key, "t.u8");  // file order is kept
  EXPECT_EQ(f.get("t.u8"), Value(uint8_t{200}));
  EXPECT_EQ(f.get("t.i8"), Value(int8_t{-100}));
  EXPECT_EQ(f.get("t.u16"), Value(uint16_t{65000}));
  EXPECT_EQ(f.get("t.i16"), Value(int16_t{-32000}));
  EXPECT_EQ(f.get("t.u32"), Value(uint32_t{4000000000u}));
  EXPECT_EQ(f.get("t.i32"), Value(int32_t{-2000000000}));
  EXPECT_EQ(f.get("t.f32"), Value(3.25f));
  EXPECT_EQ(f.get("t.bool"), Value(true));
  EXPECT_EQ(f.get("t.str").as_string("t.str"), "héllo ▁world");
  EXPECT_EQ(f.get("t.empty_str").as_string("x"), "");
  EXPECT_EQ(f.get("t.u64").as_uint("x"), 18000000000000000000ull);
  EXPECT_EQ(f.get("t.i64").as_int("x"), -9000000000000000000ll);
  EXPECT_EQ(f.get("t.f64").as_double("x"), -1.0e300);
  EXPECT_EQ(f.get("t.arr_f32"), Value::floats({1.5f, -0.0f, std::numeric_limits<float>::infinity()}));
  EXPECT_NE(f.get("t.arr_f32"), Value::floats({1.5f, 0.0f, std::numeric_limits<float>::infinity()}));
  EXPECT_EQ(f.get("t.arr_empty_u16").as_array("x").element_type, ValueType::UINT16);
  EXPECT_EQ(f.get("t.arr_bool"), Value::array(ValueType::BOOL, {Value(false), Value(true)}));
  EXPECT_EQ(f.get("t.nested"), nested_array());
  // Typed views convert integers across widths but never across kinds.
  EXPECT_EQ(f.get("t.u8").as_int("x"), 200);
  EXPECT_THROW(f.get("t.i8").as_uint("t.i8"), InputError);
  EXPECT_THROW(f.get("t.u64").as_int("t.u64"), InputError);
  EXPECT_THROW(f.get("t.i32").as_double("t.i32"), InputError);
  EXPECT_THROW(f.get("t.str").as_int("t.str"), InputError);
  EXPECT_THROW(f.get("missing"), InputError);
}

// A file assembled byte by byte from the format description, independent of Writer.
struct Bytes {
  std::vector<uint8_t> b;
  template <class T>
  Bytes& put(T x) {
    const auto* p = reinterpret_cast<const uint8_t*>(&x);
    b.insert(b.end(), p, p + sizeof(T));
    return *this;
  }
  Bytes& str(const std::string& s) {
    put<uint64_t>(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& pad(size_t a) {
    while (b.size() % a) b.push_back(0);
    return *this;
  }
};

// GGUF v2 header with one u32 key and one F32 tensor [3, 2] at offset 0.
Bytes handmade(uint32_t version = 2) {
  Bytes x;
  x.put<uint32_t>(0x46554747).put<uint32_t>(version).put<uint64_t>(1).put<uint64_t>(1);
  x.str("k").put<uint32_t>(4).put<uint32_t>(77);
  x.str("w").put<uint32_t>(2).put<uint64_t>(3).put<uint64_t>(2).put<uint32_t>(0).put<uint64_t>(0);
  x.pad(32);
  for (int i = 0; i < 6; ++i) x.put<float>(static_cast<float>(i) - 2.5f);
  return x;
}

TEST(Gguf, ReadsHandmadeVersion2File) {
  const File f = File::parse(handmade().b, "hand.gguf");
  EXPECT_EQ(f.version(), 2u);
  EXPECT_EQ(f.get("k").as_uint("k"), 77u);
  EXPECT_EQ(f.data_offset(), 96u);  // 24 header + 17 kv + 37 tensor info = 78 → 96
  const TensorInfo& t = f.tensor("w");
  EXPECT_EQ(t.ne, (std::vector<uint64_t>{3, 2}));
  EXPECT_EQ(f.to_f32(t), (std::vector<float>{-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f}));
}

// ggml's reader requires each tensor at exactly the running, alignment-padded sum of the
// sizes before it, and the data section at the aligned end of the header.
TEST(Gguf, WriterFollowsGgmlLayoutRules) {
  for (uint32_t alignment : {32u, 64u, 8u}) {
    Writer w;
    w.set_alignment(alignment);
    w.set("general.architecture", Value("test"));
    std::vector<float> a(7, 1.0f), b(64, 2.0f), c(33, 3.0f);
    w.add_f32("a", {7}, a);
    w.add_f16("b", {16, 4}, b);
    w.add_tensor("codes", {5}, TensorType::I8, {1, 2, 3, 4, 5});
    w.add_f32("c", {33}, c);
    const auto bytes = w.serialize();
    const File f = File::parse(bytes, "layout.gguf");
    EXPECT_EQ(f.alignment(), alignment);
    EXPECT_EQ(f.data_offset() % alignment, 0u);
    uint64_t expect = 0;
    for (const TensorInfo& t : f.tensors()) {
      EXPECT_EQ(t.offset, expect) << t.name;
      expect += (t.n_bytes() + alignment - 1) / alignment * alignment;
    }
    EXPECT_EQ(bytes.size(), f.data_offset() + expect);
    EXPECT_EQ(f.to_f32(f.tensor("a")), a);
    EXPECT_EQ(f.to_f32(f.tensor("b")), b);
    auto codes = f.data(f.tensor("codes"));
    EXPECT_EQ(std::vector<uint8_t>(codes.begin(), codes.end()), (std::vector<uint8_t>{1, 2, 3, 4, 5}));
  }
}

TEST(Gguf, WriterRejectsBadInput) {
  Writer w;
  w.set("x", Value(1.0f));
  EXPECT_THROW(w.set("x", Value(2.0f)), InputError);
  EXPECT_THROW(w.set("general.alignment", Value(uint32_t{48})), InputError);
  EXPECT_THROW(w.set_alignment(0), InputError);
  EXPECT_THROW(w.add_tensor("t", {3}, TensorType::F32, std::vector<uint8_t>(11)), InputError);
  EXPECT_THROW(w.add_tensor("q", {33}, TensorType::Q8_0, std::vector<uint8_t>(34)), InputError);
  EXPECT_THROW(w.add_tensor(std::string(64, 'n'), {1}, TensorType::I8, {0}), InputError);
  EXPECT_THROW(w.add_tensor("d", {1, 1, 1, 1, 1}, TensorType::I8, {0}), InputError);
  w.add_tensor("t", {3}, TensorType::F32, std::vector<uint8_t>(12));
  EXPECT_THROW(w.add_tensor("t", {3}, TensorType::F32, std::vector<uint8_t>(12)), InputError);
  Value mixed(Array{ValueType::INT32, {Value(int32_t{1}), Value(1.0f)}});
  EXPECT_THROW(w.set("mixed", mixed), InputError);
}

std::string numbered(int i) {
  std::string s = "t";  // built by append: GCC 12 warns falsely on "t" + std::to_string(i)
  s += std::to_string(i);
  return s;
}

TEST(Gguf, RandomTensorsRoundTripBitExactly) {
  std::mt19937 rng(11);
  Writer w;
  std::vector<std::vector<float>> data;
  for (int i = 0; i < 5; ++i) {
    std::vector<float> v(static_cast<size_t>(17 * (i + 1)));
    for (float& x : v) x = std::bit_cast<float>(static_cast<uint32_t>(rng()));  // any bit pattern, NaNs included
    w.add_f32(numbered(i), {17, static_cast<uint64_t>(i + 1)}, v);
    data.push_back(v);
  }
  TempDir dir("gguf");
  w.write(dir.file("r.gguf"));
  const File f = File::read(dir.file("r.gguf"));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(bits_equal(f.to_f32(f.tensor(numbered(i))), data[i]));
}

// ---------------------------------------------------------------------------- dequantization

void put_half(std::vector<uint8_t>& b, float f) {
  const uint16_t h = float_to_fp16(f);
  b.push_back(static_cast<uint8_t>(h & 0xFF));
  b.push_back(static_cast<uint8_t>(h >> 8));
}

TEST(Gguf, DequantizesHandBuiltBlocks) {
  // Q8_0: d = 0.5, q_j = j - 16 (and a second block with d = -0.25, q_j = 3j - 50).
  std::vector<uint8_t> q8;
  put_half(q8, 0.5f);
  for (int j = 0; j < 32; ++j) q8.push_back(static_cast<uint8_t>(static_cast<int8_t>(j - 16)));
  put_half(q8, -0.25f);
  for (int j = 0; j < 32; ++j) q8.push_back(static_cast<uint8_t>(static_cast<int8_t>(3 * j - 50)));
  std::vector<float> out(64);
  dequantize(TensorType::Q8_0, q8, 64, out.data());
  for (int j = 0; j < 32; ++j) {
    EXPECT_EQ(out[j], 0.5f * (j - 16));
    EXPECT_EQ(out[32 + j], -0.25f * (3 * j - 50));
  }
  // Q4_0: d = 2, element j (< 16) in the low nibble of byte j, element j + 16 in its high
  // nibble, value (nibble - 8) · d. Nibbles chosen as lo = j, hi = 15 - j.
  std::vector<uint8_t> q4;
  put_half(q4, 2.0f);
  for (int j = 0; j < 16; ++j) q4.push_back(static_cast<uint8_t>(j | ((15 - j) << 4)));
  dequantize(TensorType::Q4_0, q4, 32, out.data());
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(out[j], 2.0f * (j - 8));
    EXPECT_EQ(out[j + 16], 2.0f * (15 - j - 8));
  }
  // Q4_1: d = 0.125, m = -1, value nibble · d + m.
  std::vector<uint8_t> q41;
  put_half(q41, 0.125f);
  put_half(q41, -1.0f);
  for (int j = 0; j < 16; ++j) q41.push_back(static_cast<uint8_t>(((j * 7) % 16) | (j << 4)));
  dequantize(TensorType::Q4_1, q41, 32, out.data());
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(out[j], 0.125f * static_cast<float>((j * 7) % 16) - 1.0f);
    EXPECT_EQ(out[j + 16], 0.125f * static_cast<float>(j) - 1.0f);
  }
  // F16 and BF16: little-endian 16-bit words.
  const std::vector<uint8_t> f16 = {0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00};  // 1, -2, 2^-24
  dequantize(TensorType::F16, f16, 3, out.data());
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -2.0f);
  EXPECT_EQ(out[2], std::ldexp(1.0f, -24));
  const std::vector<uint8_t> bf16 = {0x80, 0x3F, 0x49, 0x40};  // 1, 3.140625
  dequantize(TensorType::BF16, bf16, 2, out.data());
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], 3.140625f);
  EXPECT_THROW(dequantize(TensorType::Q8_1, std::vector<uint8_t>(36), 32, out.data()), InputError);
  EXPECT_THROW(dequantize(TensorType::Q8_0, std::vector<uint8_t>(33), 32, out.data()), InputError);
}

TEST(Gguf, QuantizedTensorsInAFile) {
  Writer w;
  std::vector<uint8_t> q8;
  for (int b = 0; b < 4; ++b) {
    put_half(q8, 0.0625f * (b + 1));
    for (int j = 0; j < 32; ++j) q8.push_back(static_cast<uint8_t>(static_cast<int8_t>(j * b - 40)));
  }
  w.add_tensor("q", {64, 2}, TensorType::Q8_0, q8);
  const File f = File::parse(w.serialize(), "q.gguf");
  const std::vector<float> v = f.to_f32(f.tensor("q"));
  ASSERT_EQ(v.size(), 128u);
  for (int b = 0; b < 4; ++b)
    for (int j = 0; j < 32; ++j) EXPECT_EQ(v[32 * b + j], 0.0625f * (b + 1) * static_cast<float>(j * b - 40));
}

// A Q4_K super-block packed by hand from the layout: 8 sub-blocks of 32 weights, 6-bit
// (scale, min) pairs with sub-blocks 4..7 split into nibbles + top bits, value
// d·scale·q − dmin·min. Scales above 15 and mins above 15 exercise the split.
TEST(Gguf, DequantizesHandPackedQ4K) {
  int sc[8], mn[8];
  for (int j = 0; j < 8; ++j) {
    sc[j] = 8 * j + 5;
    mn[j] = 63 - 7 * j;
  }
  std::vector<uint8_t> blk;
  put_half(blk, 0.5f);
  put_half(blk, 0.25f);
  uint8_t scales[12] = {};
  for (int j = 0; j < 4; ++j) {
    scales[j] = static_cast<uint8_t>(sc[j] | ((sc[j + 4] >> 4) << 6));
    scales[j + 4] = static_cast<uint8_t>(mn[j] | ((mn[j + 4] >> 4) << 6));
    scales[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0x0F) | ((mn[j + 4] & 0x0F) << 4));
  }
  blk.insert(blk.end(), scales, scales + 12);
  for (int g = 0; g < 4; ++g)
    for (int l = 0; l < 32; ++l) blk.push_back(static_cast<uint8_t>(((l + g) % 16) | (((3 * l + g) % 16) << 4)));
  ASSERT_EQ(blk.size(), 144u);
  std::vector<float> out(256);
  dequantize(TensorType::Q4_K, blk, 256, out.data());
  for (int g = 0; g < 4; ++g)
    for (int l = 0; l < 32; ++l) {
      const int lo = 2 * g, hi = 2 * g + 1;
      EXPECT_EQ(out[64 * g + l], 0.5f * sc[lo] * ((l + g) % 16) - 0.25f * mn[lo]) << g << " " << l;
      EXPECT_EQ(out[64 * g + 32 + l], 0.5f * sc[hi] * ((3 * l + g) % 16) - 0.25f * mn[hi]) << g << " " << l;
    }
}

// Random blocks of every supported quantized type, dequantized by llama.cpp's `gguf`
// Python package (tests/gguf_quant_reference.py) and by us: bit-identical. Runs when that
// package is installed (see Convert.ReadableByLlamaCppGgufPackage in cli/test_gguf_cli.cpp).
TEST(Gguf, DequantizationMatchesLlamaCppReference) {
  const std::string python = gguf_python();
  if (!has_gguf_package(python)) GTEST_SKIP() << "the gguf package is not installed for " << python;
  TempDir dir("gguf");
  for (int seed : {1, 2, 3}) {
    const std::string path = dir.file("q" + std::to_string(seed) + ".gguf");
    const CommandResult r =
        run_command(python + " " + LLVQ_TESTS_DIR + "/gguf_quant_reference.py '" + path + "' " + std::to_string(seed));
    ASSERT_EQ(r.status, 0) << r.out;
    const File f = File::read(path);
    int checked = 0;
    for (const TensorInfo& t : f.tensors()) {
      if (t.type == TensorType::F32) continue;
      const std::vector<float> ours = f.to_f32(t), ref = f.to_f32(f.tensor(t.name + ".ref"));
      ASSERT_EQ(ours.size(), ref.size()) << t.name;
      for (size_t i = 0; i < ours.size(); ++i)
        ASSERT_EQ(ours[i], ref[i]) << t.name << " weight " << i;
      ++checked;
    }
    EXPECT_EQ(checked, 10);
  }
}

// ---------------------------------------------------------------------------- corruption

void expect_parse_error(const std::vector<uint8_t>& bytes, const std::vector<std::string>& parts) {
  expect_input_error([&] { File::parse(bytes, "bad.gguf"); }, parts);
}

TEST(Gguf, CorruptFilesGiveClearErrors) {
  const auto good = handmade().b;
  ASSERT_NO_THROW(File::parse(good, "good.gguf"));
  auto patched = [&](size_t at, auto value) {
    auto b = good;
    std::memcpy(b.data() + at, &value, sizeof(value));
    return b;
  };
  // Offsets in handmade(): 0 magic, 4 version, 8 n_tensors, 16 n_kv, 24 key len, 32 "k",
  // 33 value type, 37 value, 41 name len, 49 "w", 50 n_dims, 54 ne0, 62 ne1, 70 type, 74 offset.
  expect_parse_error(patched(0, uint32_t{0x46554746}), {"bad.gguf", "magic"});
  expect_parse_error(patched(4, uint32_t{1}), {"bad.gguf", "version 1"});
  expect_parse_error(patched(8, uint64_t{1} << 40), {"bad.gguf", "tensor count"});
  expect_parse_error(patched(16, uint64_t{1} << 40), {"bad.gguf", "key/value count"});
  expect_parse_error(patched(24, uint64_t{1} << 50), {"bad.gguf", "key #0", "truncated"});
  expect_parse_error(patched(33, uint32_t{13}), {"bad.gguf", "'k'", "unknown GGUF value type id 13"});
  expect_parse_error(patched(50, uint32_t{5}), {"bad.gguf", "'w'", "n_dims"});
  expect_parse_error(patched(54, uint64_t{0}), {"bad.gguf", "'w'", "ne[0]"});
  expect_parse_error(patched(62, uint64_t{1000}), {"bad.gguf", "'w'", "leaves the data section"});
  expect_parse_error(patched(62, uint64_t{1} << 62), {"bad.gguf", "'w'"});
  expect_parse_error(patched(70, uint32_t{4}), {"bad.gguf", "'w'", "unknown ggml tensor type id 4"});
  expect_parse_error(patched(70, uint32_t{8}), {"bad.gguf", "'w'", "block size"});  // Q8_0 needs ne[0] % 32
  expect_parse_error(patched(74, uint64_t{4}), {"bad.gguf", "'w'", "general.alignment"});
  expect_parse_error(patched(74, uint64_t{32}), {"bad.gguf", "'w'", "leaves the data section"});
  for (size_t cut : {0, 3, 20, 30, 45, 60, 80, 100}) {
    auto b = good;
    b.resize(cut);
    expect_parse_error(b, {"bad.gguf"});
  }
}

TEST(Gguf, DuplicatesOverlapsAndAlignmentAreRejected) {
  Bytes dup_key;
  dup_key.put<uint32_t>(0x46554747).put<uint32_t>(3).put<uint64_t>(0).put<uint64_t>(2);
  dup_key.str("a").put<uint32_t>(0).put<uint8_t>(1).str("a").put<uint32_t>(0).put<uint8_t>(2);
  expect_parse_error(dup_key.b, {"bad.gguf", "duplicated key 'a'"});

  auto two_tensors = [](const std::string& second, uint64_t second_offset) {
    Bytes x;
    x.put<uint32_t>(0x46554747).put<uint32_t>(3).put<uint64_t>(2).put<uint64_t>(0);
    x.str("t").put<uint32_t>(1).put<uint64_t>(16).put<uint32_t>(0).put<uint64_t>(0);
    x.str(second).put<uint32_t>(1).put<uint64_t>(16).put<uint32_t>(0).put<uint64_t>(second_offset);
    x.pad(32);
    x.b.resize(x.b.size() + 128, 0);
    return x.b;
  };
  EXPECT_NO_THROW(File::parse(two_tensors("u", 64), "ok.gguf"));
  expect_parse_error(two_tensors("t", 64), {"bad.gguf", "duplicated tensor name 't'"});
  expect_parse_error(two_tensors("u", 32), {"bad.gguf", "'u'", "overlaps", "'t'"});

  auto with_alignment = [](ValueType type, uint32_t value) {
    Bytes x;
    x.put<uint32_t>(0x46554747).put<uint32_t>(3).put<uint64_t>(0).put<uint64_t>(1);
    x.str("general.alignment").put<uint32_t>(static_cast<uint32_t>(type)).put<uint32_t>(value);
    return x.b;
  };
  EXPECT_EQ(File::parse(with_alignment(ValueType::UINT32, 64), "a.gguf").alignment(), 64u);
  expect_parse_error(with_alignment(ValueType::UINT32, 24), {"bad.gguf", "general.alignment", "power of two"});
  expect_parse_error(with_alignment(ValueType::INT32, 32), {"bad.gguf", "general.alignment", "uint32"});

  Bytes bad_bool;
  bad_bool.put<uint32_t>(0x46554747).put<uint32_t>(3).put<uint64_t>(0).put<uint64_t>(1);
  bad_bool.str("b").put<uint32_t>(7).put<uint8_t>(2);
  expect_parse_error(bad_bool.b, {"bad.gguf", "'b'", "bool"});

  Bytes huge_array;
  huge_array.put<uint32_t>(0x46554747).put<uint32_t>(3).put<uint64_t>(0).put<uint64_t>(1);
  huge_array.str("arr").put<uint32_t>(9).put<uint32_t>(4).put<uint64_t>(uint64_t{1} << 61);
  expect_parse_error(huge_array.b, {"bad.gguf", "'arr'"});

  Bytes deep;
  deep.put<uint32_t>(0x46554747).put<uint32_t>(3).put<uint64_t>(0).put<uint64_t>(1);
  deep.str("deep").put<uint32_t>(9);
  for (int i = 0; i < 100; ++i) deep.put<uint32_t>(9).put<uint64_t>(1);
  deep.put<uint32_t>(0).put<uint64_t>(0);
  expect_parse_error(deep.b, {"bad.gguf", "'deep'", "nested"});
}

// ---------------------------------------------------------------------------- Llama models

TEST(GgufModel, StoriesRoundTripsBitExactly) {
  const LlamaModel original = load_model(stories_bin());
  TempDir dir("gguf");
  const std::string out = dir.file("s.gguf");
  save_gguf(original, out);
  EXPECT_EQ(detect_model_format(out), ModelFormat::Gguf);
  const LlamaModel back = load_model(out);
  expect_models_equal(original, back);
  EXPECT_EQ(back.metadata.at("format"), "gguf-v3");
  EXPECT_FALSE(back.tokenizer.has_value());

  // The llama.cpp key set and tensor names, with ne[0] the input dimension.
  const File f = File::read(out);
  EXPECT_EQ(f.get("general.architecture").as_string("a"), "llama");
  EXPECT_EQ(f.get("llama.embedding_length").as_uint("x"), 64u);
  EXPECT_EQ(f.get("llama.feed_forward_length").as_uint("x"), 172u);
  EXPECT_EQ(f.get("llama.block_count").as_uint("x"), 5u);
  EXPECT_EQ(f.get("llama.attention.head_count").as_uint("x"), 8u);
  EXPECT_EQ(f.get("llama.attention.head_count_kv").as_uint("x"), 4u);
  EXPECT_EQ(f.get("llama.context_length").as_uint("x"), 512u);
  EXPECT_EQ(f.get("llama.rope.freq_base").as_double("x"), 10000.0);
  EXPECT_EQ(f.tensor("blk.2.attn_k.weight").ne, (std::vector<uint64_t>{64, 32}));
  EXPECT_EQ(f.tensor("blk.4.ffn_down.weight").ne, (std::vector<uint64_t>{172, 64}));
  EXPECT_EQ(f.tensor("token_embd.weight").ne, (std::vector<uint64_t>{64, 512}));
  EXPECT_EQ(f.find_tensor("output.weight"), nullptr);  // tied
  EXPECT_EQ(f.tensors().size(), 2u + 9u * 5u);
}

TEST(GgufModel, F16StoresRoundedMatricesAndF32Norms) {
  const LlamaModel original = load_model(stories_bin());
  TempDir dir("gguf");
  save_gguf(original, dir.file("h.gguf"), {.weight_type = WeightType::F16});
  const File f = File::read(dir.file("h.gguf"));
  EXPECT_EQ(f.tensor("blk.0.attn_q.weight").type, TensorType::F16);
  EXPECT_EQ(f.tensor("blk.0.attn_norm.weight").type, TensorType::F32);
  EXPECT_EQ(f.get("general.file_type").as_uint("x"), 1u);
  const LlamaModel back = llama_from_gguf(f);
  auto rounded = [](std::vector<float> v) {
    for (float& x : v) x = fp16_to_float(float_to_fp16(x));
    return v;
  };
  EXPECT_TRUE(bits_equal(back.layers[3].w2->dense_weight(), rounded(original.layers[3].w2->dense_weight())));
  EXPECT_TRUE(bits_equal(back.tok_embeddings, rounded(original.tok_embeddings)));
  EXPECT_TRUE(bits_equal(back.layers[3].ffn_norm, original.layers[3].ffn_norm));
}

TEST(GgufModel, UntiedClassifierAndTokenizerRoundTrip) {
  LlamaModel m = load_model(stories_bin());
  std::vector<float> cls = m.tok_embeddings;
  for (float& x : cls) x = -x;
  m.output = std::make_shared<DenseLinear>(512, 64, cls);
  m.config.tied_embeddings = false;
  TokenizerData tok;
  for (int i = 0; i < 512; ++i) {
    tok.tokens.push_back(numbered(i));
    tok.scores.push_back(-0.5f * static_cast<float>(i));
    tok.token_types.push_back(i < 3 ? 3 : 1);
  }
  tok.bos_id = 1;
  tok.eos_id = 2;
  tok.add_space_prefix = false;
  m.tokenizer = tok;
  TempDir dir("gguf");
  save_gguf(m, dir.file("u.gguf"), {.alignment = 64});
  const LlamaModel back = load_model(dir.file("u.gguf"));
  EXPECT_FALSE(back.config.tied_embeddings);
  EXPECT_TRUE(bits_equal(back.output->dense_weight(), cls));
  ASSERT_TRUE(back.tokenizer.has_value());
  EXPECT_EQ(back.tokenizer->tokens, tok.tokens);
  EXPECT_EQ(back.tokenizer->scores, tok.scores);
  EXPECT_EQ(back.tokenizer->token_types, tok.token_types);
  EXPECT_FALSE(back.tokenizer->add_space_prefix);
  EXPECT_EQ(File::read(dir.file("u.gguf")).alignment(), 64u);
}

TEST(GgufModel, NeverOverwritesInputsOrExistingFiles) {
  TempDir dir("gguf");
  const LlamaModel m = load_model(stories_bin());
  save_gguf(m, dir.file("a.gguf"));
  const auto before = read_bytes(dir.file("a.gguf"));
  expect_input_error([&] { save_gguf(m, dir.file("a.gguf")); }, {"a.gguf", "exists"});
  const LlamaModel again = load_model(dir.file("a.gguf"));
  expect_input_error([&] { save_gguf(again, dir.file("a.gguf"), {.overwrite = true}); }, {"a.gguf", "read from"});
  EXPECT_EQ(read_bytes(dir.file("a.gguf")), before);
  save_gguf(m, dir.file("a.gguf"), {.overwrite = true});
  LlamaModel broken = m;
  broken.layers.pop_back();
  expect_input_error([&] { save_gguf(broken, dir.file("b.gguf")); }, {"b.gguf", "layers"});
  broken = m;
  broken.layers[1].w2.reset();
  expect_input_error([&] { save_gguf(broken, dir.file("b.gguf")); }, {"b.gguf", "linear"});
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()), 1);
}

// A llama.cpp-style mixed file: matrices whose rows are multiples of 32 stored as Q8_0
// (quantized here with d = max|x|/127 rounded to fp16), the rest F16/F32. Loading must
// give exactly d·q for every weight.
TEST(GgufModel, LoadsQ8_0Matrices) {
  const LlamaModel m = load_model(stories_bin());
  TempDir dir("gguf");
  save_gguf(m, dir.file("s.gguf"));
  const File f32 = File::read(dir.file("s.gguf"));
  Writer w;
  for (const auto& kv : f32.metadata()) w.set(kv.key, kv.value);
  std::map<std::string, std::vector<float>> expected;
  for (const auto& t : f32.tensors()) {
    const std::vector<float> v = f32.to_f32(t);
    if (t.ne.size() != 2 || t.ne[0] % 32 != 0) {
      w.add_f16(t.name, t.ne, v);
      continue;
    }
    std::vector<uint8_t> blocks;
    std::vector<float> dq;
    for (size_t b = 0; b < v.size(); b += 32) {
      float amax = 0;
      for (size_t j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(v[b + j]));
      const uint16_t dh = float_to_fp16(amax / 127.0f);
      const float d = fp16_to_float(dh);
      blocks.push_back(static_cast<uint8_t>(dh & 0xFF));
      blocks.push_back(static_cast<uint8_t>(dh >> 8));
      for (size_t j = 0; j < 32; ++j) {
        const auto q = static_cast<int8_t>(d > 0 ? std::clamp(std::lround(v[b + j] / d), -127L, 127L) : 0);
        blocks.push_back(static_cast<uint8_t>(q));
        dq.push_back(d * q);
      }
    }
    w.add_tensor(t.name, t.ne, TensorType::Q8_0, blocks);
    expected[t.name] = dq;
  }
  const LlamaModel q = llama_from_gguf(File::parse(w.serialize(), "q8.gguf"));
  EXPECT_TRUE(bits_equal(q.tok_embeddings, expected.at("token_embd.weight")));
  EXPECT_TRUE(bits_equal(q.layers[2].wq->dense_weight(), expected.at("blk.2.attn_q.weight")));
  EXPECT_TRUE(bits_equal(q.layers[4].w3->dense_weight(), expected.at("blk.4.ffn_up.weight")));
  EXPECT_EQ(expected.count("blk.0.ffn_down.weight"), 0u);  // 172 columns: stays F16
  const std::vector<float> down = m.layers[0].w2->dense_weight();
  for (size_t i = 0; i < down.size(); i += 97) EXPECT_EQ(q.layers[0].w2->dense_weight()[i], fp16_to_float(float_to_fp16(down[i])));

  // The Q8_0 layers (and the tied classifier, from the embedding's blocks) run one token from
  // their blocks, several through the fp32 GEMM: the same products within float rounding.
  const auto& wq = dynamic_cast<const DenseLinear&>(*q.layers[2].wq);
  EXPECT_TRUE(wq.has_q8_0());
  EXPECT_TRUE(dynamic_cast<const DenseLinear&>(*q.output).has_q8_0());
  EXPECT_FALSE(dynamic_cast<const DenseLinear&>(*q.layers[0].w2).has_q8_0());
  for (const DenseLinear* l : {&wq, &dynamic_cast<const DenseLinear&>(*q.output)}) {
    const auto in = static_cast<size_t>(l->in_features()), out = static_cast<size_t>(l->out_features());
    std::vector<float> x(2 * in), one(out), two(2 * out);
    for (size_t i = 0; i < in; ++i) x[i] = x[in + i] = std::sin(0.37f * static_cast<float>(i));
    l->forward(x.data(), one.data(), 1);
    l->forward(x.data(), two.data(), 2);
    for (size_t r = 0; r < out; ++r) {
      double scale = 0;
      for (size_t i = 0; i < in; ++i) scale += std::fabs(l->weight()[r * in + i] * x[i]);
      ASSERT_NEAR(one[r], two[r], 1e-5 * scale + 1e-30) << "row " << r;
      ASSERT_EQ(two[r], two[out + r]);
    }
  }
}

TEST(GgufModel, Q8_0CopyRejectsPartialBlocksAndShortSources) {
  const auto image = std::make_shared<const std::vector<uint8_t>>(1000);
  DenseLinear odd(2, 48, std::vector<float>(96));
  EXPECT_THROW(odd.use_q8_0(image, 0), InputError);  // 48 columns: not whole blocks
  DenseLinear l(2, 64, std::vector<float>(128));     // 2 rows × 2 blocks × 34 bytes = 136
  EXPECT_THROW(l.use_q8_0(std::make_shared<const std::vector<uint8_t>>(135), 0), InputError);
  EXPECT_THROW(l.use_q8_0(image, 900), InputError);
  EXPECT_THROW(l.use_q8_0(image, 2000), InputError);
  EXPECT_THROW(l.use_q8_0(nullptr, 0), InputError);
  EXPECT_FALSE(l.has_q8_0());
  l.use_q8_0(image, 864);
  EXPECT_TRUE(l.has_q8_0());
}

// Shapes that contradict the llama.* hyper-parameters are named in the error.
TEST(GgufModel, InconsistentShapesAndKeys) {
  const LlamaModel m = load_model(stories_bin());
  TempDir dir("gguf");
  save_gguf(m, dir.file("s.gguf"));
  const File good = File::read(dir.file("s.gguf"));
  auto rewrite = [&](const std::string& key, Value v) {
    Writer w;
    for (const auto& kv : good.metadata()) w.set(kv.key, kv.key == key ? v : kv.value);
    for (const auto& t : good.tensors()) {
      auto d = good.data(t);
      w.add_tensor(t.name, t.ne, t.type, std::vector<uint8_t>(d.begin(), d.end()));
    }
    return File::parse(w.serialize(), "shape.gguf");
  };
  expect_input_error([&] { llama_from_gguf(rewrite("llama.feed_forward_length", Value(uint32_t{170}))); },
                     {"shape.gguf", "blk.0.ffn_gate.weight", "[64, 172]", "[64, 170]"});
  expect_input_error([&] { llama_from_gguf(rewrite("llama.attention.head_count_kv", Value(uint32_t{8}))); },
                     {"shape.gguf", "blk.0.attn_k.weight"});
  expect_input_error([&] { llama_from_gguf(rewrite("llama.attention.head_count_kv", Value(uint32_t{3}))); },
                     {"shape.gguf", "head_count_kv"});
  expect_input_error([&] { llama_from_gguf(rewrite("llama.block_count", Value(uint32_t{6}))); },
                     {"shape.gguf", "blk.5.attn_norm.weight"});
  expect_input_error([&] { llama_from_gguf(rewrite("llama.block_count", Value("five"))); },
                     {"shape.gguf", "llama.block_count"});
  expect_input_error([&] { llama_from_gguf(rewrite("general.architecture", Value("gpt2"))); },
                     {"shape.gguf", "gpt2"});
  expect_input_error([&] { llama_from_gguf(rewrite("llama.embedding_length", Value(uint32_t{0}))); },
                     {"shape.gguf", "llama.embedding_length"});
}

}  // namespace
