// The `llvq codec` and `llvq rd` commands: encode/decode round trip and honest file size,
// exit status 2 with a message for bad input, the rate-distortion report's keys, real model
// weights as a source, the paper table and the plot.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "files.hpp"
#include "llvq/codec.hpp"
#include "random.hpp"
#include "test_data.hpp"

namespace {

using llvq::test::run_cli;

class CodecCli : public ::testing::Test {
 protected:
  std::string path(const char* name) const { return dir_.file(name); }
  const llvq::test::TempDir dir_{"codec_cli"};
};

TEST_F(CodecCli, EncodeDecodeRoundTripAndHonestSize) {
  const auto w = llvq::test::gaussian(4096, 9);
  {
    std::ofstream f(path("w.f32"), std::ios::binary);
    f.write(reinterpret_cast<const char*>(w.data()), static_cast<std::streamsize>(w.size() * 4));
  }
  llvq::test::CommandResult r = run_cli("codec encode --codec e8p --row 1024 " + path("w.f32") + " " + path("w.llvq"));
  ASSERT_EQ(r.status, 0) << r.out;
  // 4 rows × (128 blocks × 16 bits + 16 scale bits) plus the header.
  const size_t payload = 4 * (128 * 16 + 16) / 8;
  const size_t size = std::filesystem::file_size(path("w.llvq"));
  EXPECT_GE(size, payload);
  EXPECT_LE(size, payload + 80);
  r = run_cli("codec decode " + path("w.llvq") + " " + path("back.f32"));
  ASSERT_EQ(r.status, 0) << r.out;
  std::vector<float> back(w.size());
  std::ifstream f(path("back.f32"), std::ios::binary);
  f.read(reinterpret_cast<char*>(back.data()), static_cast<std::streamsize>(back.size() * 4));
  const auto codec = llvq::make_codec("e8p");
  std::vector<float> expect(w.size());
  codec->quantize_dequantize_rows(w.data(), 4, 1024, expect.data());
  EXPECT_EQ(back, expect);
}

TEST_F(CodecCli, BadInputExitsWithStatus2) {
  {
    std::ofstream f(path("odd.f32"), std::ios::binary);
    f << "abcdefg";  // 7 bytes: not float32
    std::ofstream g(path("junk.llvq"), std::ios::binary);
    g << "LLVQCODE but not really";
  }
  llvq::test::CommandResult r = run_cli("codec encode --codec e8p " + path("odd.f32") + " " + path("o.llvq"));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("multiple of 4"), std::string::npos) << r.out;
  r = run_cli("codec decode " + path("junk.llvq") + " " + path("o.f32"));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("llvq: error:"), std::string::npos) << r.out;
  r = run_cli("codec encode --codec bogus " + path("odd.f32") + " " + path("o.llvq"));
  EXPECT_EQ(r.status, 2);
  r = run_cli("rd --codec scalar --source model:/x --blocks 10");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("/x"), std::string::npos) << r.out;
}

TEST_F(CodecCli, RdReportsTheContractKeys) {
  llvq::test::CommandResult r = run_cli("rd --codec scalar:bpw=2 --source laplace --blocks 4096 --seed 3 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  for (const char* key : {"\"codec\"", "\"bpw\"", "\"mse\"", "\"sqnr_bits\"", "\"retention\"", "\"shannon_mse\"",
                          "\"encode_blocks_per_s\"", "\"decode_blocks_per_s\""})
    EXPECT_NE(r.out.find(key), std::string::npos) << key << " in " << r.out;
}

TEST_F(CodecCli, RdOnRealModelWeights) {
  const std::string model = llvq::test::data_file("models/stories260K/stories260K.bin");
  // Rows scaled to unit RMS: the measured MSE is relative to unit power, so 4-bit scalar
  // error must sit far below 1 and above the Gaussian bound's order of magnitude.
  llvq::test::CommandResult r = run_cli("rd --codec scalar:bpw=4 --source model:" + model + " --blocks 8192 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const double mse = std::stod(r.out.substr(r.out.find("\"mse\"") + 7));
  EXPECT_GT(mse, 0.001);
  EXPECT_LT(mse, 0.05);
  r = run_cli("rd --codec e8p --source model:" + model + ":blk.0.attn_q.weight --blocks 512 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  r = run_cli("rd --codec e8p --source model:" + model + ":blk.9.attn_q.weight --blocks 16");
  EXPECT_EQ(r.status, 2);
}

TEST_F(CodecCli, RdTableAndPlotSlow) {
  llvq::test::CommandResult r = run_cli("rd --table --blocks 200 --seed 4 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  for (const char* needle : {"\"paper_mse\": 0.1175", "\"method\": \"QuIP# E8P\"", "llvq-sg:shells=12,gain_bits=1",
                             "llvq-ss:shells=13"})
    EXPECT_NE(r.out.find(needle), std::string::npos) << needle << " in " << r.out;
  const std::string png = path("rd.png");
  r = run_cli("rd --plot " + png + " --blocks 100");
  ASSERT_EQ(r.status, 0) << r.out;
  ASSERT_TRUE(std::filesystem::exists(png));
  std::ifstream f(png, std::ios::binary);
  char magic[4] = {};
  f.read(magic, 4);
  EXPECT_EQ(std::string(magic + 1, 3), "PNG");
}

}  // namespace
