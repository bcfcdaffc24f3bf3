// `llvq inspect` on a Hugging Face safetensors export of stories260K: on the file it lists the
// tensors, on the directory it shows the config (tests/test_safetensors.cpp: the loader).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "model_test_util.hpp"

namespace {
using namespace llvq::test;

TEST(Safetensors, InspectListsTensorsAndConfig) {
  TempDir dir("st");
  ASSERT_NO_FATAL_FAILURE(make_safetensors_fixture(stories_bin(), dir.path(), "--dtype F32"));
  CommandResult r = run_cli("inspect '" + dir.file("model.safetensors") + "' --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto info = nlohmann::json::parse(r.out);
  EXPECT_EQ(info["tensors"].size(), 2u + 9u * 5u);
  EXPECT_EQ(info["metadata"]["format"], "pt");
  r = run_cli("inspect '" + dir.path() + "'");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("260032 parameters"), std::string::npos) << r.out;
}

}  // namespace
