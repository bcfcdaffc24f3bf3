// Helpers of the tokenizer / forward / eval tests: data paths and running the independent
// NumPy reference (tests/reference_llama.py).
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "files.hpp"
#include "process.hpp"
#include "test_data.hpp"

namespace llvq::evaltest {

inline std::string data_path(const std::string& rel) { return llvq::test::data_file(rel); }
inline std::string stories_model() { return llvq::test::stories_bin(); }
inline std::string stories_tokenizer() { return llvq::test::stories_tok(); }
inline std::string llama2_tokenizer() { return data_path("tokenizers/llama2/tokenizer.bin"); }

// Runs tests/reference_llama.py with `args` and parses the JSON it prints.
inline nlohmann::json run_reference(const std::string& args) {
  const std::string python = LLVQ_PYTHON;
  if (python.empty() || python.find("NOTFOUND") != std::string::npos)
    throw std::runtime_error("no Python interpreter with NumPy (LLVQ_PYTHON) for the reference");
  const auto r = llvq::test::run_command(python + " " + LLVQ_TESTS_DIR + "/reference_llama.py " + args,
                                         {.stderr_to = llvq::test::Stderr::Separate});
  if (r.status != 0)
    throw std::runtime_error("reference_llama.py " + args + " failed with status " + std::to_string(r.status) + ": " +
                             r.err);
  return nlohmann::json::parse(r.out);
}

}  // namespace llvq::evaltest
