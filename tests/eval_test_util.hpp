// Helpers of the tokenizer / forward / eval tests: data paths, a scratch directory, and
// running the independent NumPy reference (tests/reference_llama.py) or the CLI.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "test_data.hpp"

namespace llvq::evaltest {

inline std::string data_path(const std::string& rel) { return llvq::test::data_file(rel); }
inline std::string stories_model() { return data_path("models/stories260K/stories260K.bin"); }
inline std::string stories_tokenizer() { return data_path("models/stories260K/tok512.bin"); }
inline std::string llama2_tokenizer() { return data_path("tokenizers/llama2/tokenizer.bin"); }

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// A per-process scratch directory, removed at destruction.
class Scratch {
 public:
  explicit Scratch(const std::string& tag)
      : dir_(std::filesystem::temp_directory_path() / ("llvq_" + tag + "_" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(dir_);
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }

 private:
  std::filesystem::path dir_;
};

// Runs a shell command; returns its stdout and sets `status` to its exit code.
inline std::string run_command(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[65536];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int rc = ::pclose(p);
  if (status) *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return out;
}

// Runs tests/reference_llama.py with `args` and parses the JSON it prints.
inline nlohmann::json run_reference(const std::string& args) {
  const std::string python = LLVQ_PYTHON;
  if (python.empty() || python.find("NOTFOUND") != std::string::npos)
    throw std::runtime_error("no Python interpreter with NumPy (LLVQ_PYTHON) for the reference");
  int status = 0;
  const std::string out = run_command(python + " " + LLVQ_TESTS_DIR + "/reference_llama.py " + args, &status);
  if (status != 0) throw std::runtime_error("reference_llama.py " + args + " failed with status " + std::to_string(status));
  return nlohmann::json::parse(out);
}

}  // namespace llvq::evaltest
