// GLVQ through the command line: `llvq rd` with a "glvq:" spec, and `llvq quantize` refusing
// options GLVQ does not take (tests/test_glvq_pipeline.cpp: the library side).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "cli.hpp"
#include "glvq_test_util.hpp"
#include "test_data.hpp"

namespace {
using namespace llvq;

// `llvq rd` on a Gaussian source with Babai, no companding and learning off is the uniform
// scalar quantizer with the MSE-optimal step: 0.1188 per coordinate at 2 bits (Max 1960).
TEST(GlvqPipeline, RdGaussianMatchesTheOptimalUniformQuantizer) {
  test::CommandResult r =
      test::run_cli("rd --codec glvq:dim=8,group=128,bits=2,companding=0,salience=0 --blocks 4000 --row 256 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_NE(j.at("codec").get<std::string>().find("learn=0"), std::string::npos);  // forced off
  // 4000·8 / 256 = 125 rows of 256 = 2 groups.
  EXPECT_DOUBLE_EQ(j.at("bpw").get<double>(),
                   static_cast<double>(test::glvq_payload_bits(125, 256, 8, 128, 2, false)) / (125.0 * 256));
  EXPECT_NEAR(j.at("mse").get<double>(), 0.1188, 0.006);
  EXPECT_EQ(j.at("blocks").get<size_t>(), 4000u);

  r = test::run_cli("rd --codec glvq:dim=9");
  ASSERT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("dim"), std::string::npos) << r.out;
}

// `llvq quantize` refuses a rounding GLVQ does not take before loading anything.
TEST(GlvqPipeline, QuantizeCliRejectsARoundingForGlvq) {
  test::TempDir dir("glvq_cli");
  const test::CommandResult r = test::run_cli("quantize --model " + test::stories_bin() + " --out " +
                                              dir.file("x.gguf") + " --codec glvq:dim=8,bits=2 --rounding rtn");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("rounding 'rtn' does not apply"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.gguf")));
}

}  // namespace
