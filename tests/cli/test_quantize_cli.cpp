// `llvq quantize` and `llvq compare` from the command line: bad input gives exit code 2 and a
// message, the input is never touched, and a good run writes a loadable file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "model_test_util.hpp"
#include "test_data.hpp"

namespace {
namespace fs = std::filesystem;

const std::string kData = llvq::test::data_dir();
const std::string kModel = kData + "/models/stories260K/stories260K.bin";
const std::string kText = kData + "/text/tinystories_val.txt";

using llvq::test::run_cli;

std::string temp_dir() {
  const fs::path d = fs::temp_directory_path() / ("llvq-qcli-" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d.string();
}

std::string quantize_args(const std::string& out) {
  return "quantize --model " + kModel + " --out " + out + " --codec e8p --rounding rtn";
}

TEST(QuantizeCli, BadInputGivesExitCode2) {
  const std::string dir = temp_dir();
  const std::string out = dir + "/q.gguf";
  auto r =
      run_cli("quantize --model " + kModel + " --out " + out + " --codec e8p --calib " + dir + "/no-such-text.txt");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("no-such-text.txt"), std::string::npos) << r.out;
  r = run_cli("quantize --model " + dir + "/missing.bin --out " + out);
  EXPECT_EQ(r.status, 2) << r.out;
  r = run_cli("quantize --model " + kModel + " --out " + out + " --codec nosuchcodec");
  EXPECT_EQ(r.status, 2) << r.out;
  r = run_cli("quantize --model " + kModel + " --out " + out + " --codec scalar:bpw=2,group=4096");  // fits no row
  EXPECT_EQ(r.status, 2) << r.out;
  r = run_cli(quantize_args(out) + " --hadamard sideways");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_FALSE(fs::exists(out));
  fs::remove_all(dir);
}

TEST(QuantizeCli, NeverTouchesTheInputAndRefusesToOverwrite) {
  const std::string dir = temp_dir();
  const std::string copy = dir + "/model.bin";
  fs::copy_file(kModel, copy);
  const auto before = fs::file_size(copy);
  auto r = run_cli("quantize --model " + copy + " --out " + copy + " --codec e8p --rounding rtn --force");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_EQ(fs::file_size(copy), before);
  const std::string out = dir + "/q.gguf";
  r = run_cli("quantize --model " + copy + " --out " + out + " --codec e8p --rounding rtn --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto json = nlohmann::json::parse(r.out.substr(r.out.find('{')));
  for (const char* key : {"bpw", "seconds", "tensors", "size_bytes"}) EXPECT_TRUE(json.contains(key)) << key;
  EXPECT_EQ(json["size_bytes"].get<uint64_t>(), fs::file_size(out));
  EXPECT_GT(json["bpw"].get<double>(), 2.0);
  EXPECT_EQ(json["tensors"].size(), 35u);
  r = run_cli("quantize --model " + copy + " --out " + out + " --codec e8p --rounding rtn");
  EXPECT_EQ(r.status, 2) << r.out;  // exists, no --force
  // The compressed file loads directly in eval.
  r = run_cli("eval --model " + out + " --text " + kText + " --ctx 128 --max-tokens 600 --json --tokenizer " + kData +
          "/models/stories260K/tok512.bin");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto ev = nlohmann::json::parse(r.out.substr(r.out.find('{')));
  EXPECT_TRUE(std::isfinite(ev["ppl"].get<double>()));
  fs::remove_all(dir);
}

// GPTQ (the default rounding) without --calib is RTN: a warning says so and the file records
// rounding=rtn, not gptq.
TEST(QuantizeCli, GptqWithoutCalibrationIsRecordedAsRtn) {
  const std::string dir = temp_dir();
  const std::string out = dir + "/q.gguf";
  auto r = run_cli("quantize --model " + kModel + " --out " + out + " --codec e8p");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("warning: gptq rounding needs calibration"), std::string::npos) << r.out;
  r = run_cli("inspect " + out + " --json");
  ASSERT_EQ(r.status, 0) << r.out;
  std::string rounding;
  const auto info = nlohmann::json::parse(r.out);
  for (const auto& kv : info["metadata"])
    if (kv["key"] == "llvq.rounding") rounding = kv["value"].get<std::string>();
  EXPECT_EQ(rounding, "rtn");
  fs::remove_all(dir);
}

// Row 11 of the robustness issue: convert of a compressed file decompresses for real (every
// tensor stored as the requested type, the same model) and keeps the provenance keys.
TEST(QuantizeCli, ConvertDecompressesAndKeepsProvenance) {
  const std::string dir = temp_dir();
  const std::string q = dir + "/q.gguf", c = dir + "/c.gguf";
  ASSERT_EQ(run_cli(quantize_args(q)).status, 0);
  auto r = run_cli("convert " + q + " " + c + " --json");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out.substr(r.out.find('{')))["decompressed_layers"].get<int>(), 35);
  r = run_cli("inspect " + c + " --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto info = nlohmann::json::parse(r.out);
  for (const auto& t : info["tensors"]) EXPECT_EQ(t["type"], "F32") << t["name"];
  std::map<std::string, std::string> keys;
  for (const auto& kv : info["metadata"])
    if (kv["type"] == "string") keys[kv["key"].get<std::string>()] = kv["value"].get<std::string>();
  EXPECT_EQ(keys["llvq.rounding"], "rtn");
  EXPECT_EQ(keys["llvq.decompressed_from"], "q.gguf");
  EXPECT_EQ(keys["llvq.codec"].rfind("e8p", 0), 0u);
  const std::string eval = " --text " + kText + " --ctx 128 --max-tokens 600 --json --tokenizer " + kData +
                           "/models/stories260K/tok512.bin";
  const auto pq = run_cli("eval --model " + q + eval), pc = run_cli("eval --model " + c + eval);
  ASSERT_EQ(pq.status, 0) << pq.out;
  ASSERT_EQ(pc.status, 0) << pc.out;
  // The same weights; the compressed file runs through the kernels and the input Hadamard
  // transform, the decompressed one through dense products: float rounding apart.
  const double ppl_q = nlohmann::json::parse(pq.out.substr(pq.out.find('{')))["ppl"].get<double>();
  const double ppl_c = nlohmann::json::parse(pc.out.substr(pc.out.find('{')))["ppl"].get<double>();
  EXPECT_NEAR(ppl_q, ppl_c, 1e-6 * ppl_q);
  fs::remove_all(dir);
}
// A recipe is a row of `compare`: only the tensors its rules name are quantized (here the five
// ffn_down layers of stories260K), and without --codecs no other row runs.
TEST(QuantizeCli, CompareRunsRecipesAsRows) {
  const auto r = run_cli("compare --model " + kModel + " --recipe 'ffn_down=e8p' --rounding rtn --eval-text " + kText +
                     " --eval-tokens 1500 --ctx 128 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
  ASSERT_EQ(j["rows"].size(), 2u);  // fp32 and the recipe
  EXPECT_EQ(j["rows"][1]["codec"], "ffn_down=e8p:factor=0.965");
  EXPECT_GT(j["rows"][1]["bpw"].get<double>(), 2.0);
  EXPECT_GT(j["rows"][1]["kl"].get<double>(), 0.0);
  EXPECT_EQ(run_cli("compare --model " + kModel + " --recipe 'ffn_down' --eval-text " + kText).status, 2);
}

}  // namespace
