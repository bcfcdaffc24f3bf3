// The front ends' shared steps around quantize_model (llvq/quantize_run.hpp) and compare's
// configuration list (llvq/compare.hpp): the RTN fallback without calibration, the checks,
// and the provenance keys.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "llvq/compare.hpp"
#include "llvq/error.hpp"
#include "llvq/quantize_run.hpp"

namespace {

using llvq::QuantRecipe;

constexpr const char* kGlvq = "glvq:dim=8,group=128,bits=2";

QuantRecipe uncalibrated(const std::string& codec, std::vector<std::string> rules = {}) {
  QuantRecipe r;
  r.codec = codec;
  r.rules = std::move(rules);
  r.calibrated = false;
  return r;
}

TEST(QuantizeRun, GptqWithoutCalibrationIsRtnForTheRowCodecs) {
  const QuantRecipe r = uncalibrated("e8p", {"ffn_down=llvq-sg", "attn_v=keep", "attn_q=llvq-sg"});
  EXPECT_EQ(llvq::resolve_options(r).tensor.rounding, llvq::Rounding::Rtn);
  const std::vector<std::string> said = llvq::codecs_rounded_without_calibration(r);
  ASSERT_EQ(said.size(), 2u);  // each codec once (rules hold canonical specs); "keep" is not quantized
  EXPECT_EQ(said[0], "e8p");
  EXPECT_EQ(said[1], llvq::canonical_codec_spec("llvq-sg"));
}

TEST(QuantizeRun, CalibrationRtnAndGlvqKeepTheRounding) {
  QuantRecipe calibrated = uncalibrated("e8p");
  calibrated.calibrated = true;
  EXPECT_EQ(llvq::resolve_options(calibrated).tensor.rounding, llvq::Rounding::Gptq);
  EXPECT_TRUE(llvq::codecs_rounded_without_calibration(calibrated).empty());
  QuantRecipe rtn = uncalibrated("e8p");
  rtn.rounding = "rtn";
  EXPECT_TRUE(llvq::codecs_rounded_without_calibration(rtn).empty());
  // GLVQ learns without calibration and keeps its step; the per-row codec beside it is still said.
  const QuantRecipe glvq = uncalibrated(kGlvq, {"ffn_down=e8p"});
  EXPECT_EQ(llvq::resolve_options(glvq).tensor.rounding, llvq::Rounding::Gptq);
  EXPECT_EQ(llvq::codecs_rounded_without_calibration(glvq), std::vector<std::string>{llvq::canonical_codec_spec("e8p")});
}

TEST(QuantizeRun, BadOptionsAreInputErrors) {
  auto fails = [](auto change) {
    QuantRecipe r;
    change(r);
    EXPECT_THROW(llvq::resolve_options(r), llvq::InputError);
  };
  fails([](QuantRecipe& r) { r.codec = "nope"; });
  fails([](QuantRecipe& r) { r.rules = {"ffn_down"}; });
  fails([](QuantRecipe& r) { r.rounding = "sideways"; });
  fails([](QuantRecipe& r) { r.hadamard = "out"; });
  fails([](QuantRecipe& r) { r.damp = -1; });
  fails([](QuantRecipe& r) { r.damp = std::nan(""); });
  fails([](QuantRecipe& r) { r.calib_ctx = 1; });
  fails([](QuantRecipe& r) { r.embedding_codec = kGlvq; });
}

TEST(QuantizeRun, ProvenanceKeys) {
  QuantRecipe r = uncalibrated("e8p", {"ffn_down=keep"});
  r.damp = 0.05;
  r.seed = 7;
  r.embedding_codec = "e8p";
  llvq::LlamaModel m;
  llvq::record_provenance(m, llvq::resolve_options(r), "none", 0);
  const std::string e8p = llvq::canonical_codec_spec("e8p");
  const std::map<std::string, std::string> expected{
      {"llvq.codec", e8p},        {"llvq.rules", "ffn_down=keep"}, {"llvq.embedding_codec", e8p},
      {"llvq.rounding", "rtn"},   {"llvq.hadamard", "in"},         {"llvq.tail", "auto"},
      {"llvq.seed", "7"},         {"llvq.damp", "0.05"},           {"llvq.calib", "none"},
      {"llvq.calib_tokens", "0"}};
  for (const auto& [k, v] : expected) EXPECT_EQ(m.metadata[k], v) << k;
  EXPECT_EQ(llvq::rounding_label(kGlvq, llvq::Rounding::Gptq), "glvq");
}

TEST(Compare, RunsAreCodecsTimesRoundingsThenRecipes) {
  llvq::CompareOptions o;
  o.codecs = llvq::split_list("e8p;;" + std::string(kGlvq), ';');
  o.roundings = llvq::split_list("rtn,gptq", ',');
  o.recipes = {"ffn_down=e8p *=keep"};
  const std::vector<QuantRecipe> runs = llvq::compare_runs(o);
  std::vector<std::pair<std::string, std::string>> got;
  for (const QuantRecipe& r : runs) got.emplace_back(r.codec, r.rounding);
  const std::vector<std::pair<std::string, std::string>> want{
      {"e8p", "rtn"}, {"e8p", "gptq"}, {kGlvq, "gptq"}, {"keep", "rtn"}, {"keep", "gptq"}};
  EXPECT_EQ(got, want);  // GLVQ runs once, with its own learning
  EXPECT_EQ(runs.back().rules, (std::vector<std::string>{"ffn_down=e8p", "*=keep"}));
  o.codecs = {"nope"};
  EXPECT_THROW(llvq::compare_runs(o), llvq::InputError);
  o.codecs.clear();
  o.recipes.clear();
  EXPECT_THROW(llvq::compare_runs(o), llvq::InputError);
}

}  // namespace
