// Helpers shared by the model-file tests: paths of the real data, temporary directories,
// whole-model bit-exact comparison, and running shell commands.
#pragma once

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_data.hpp"
#include "llvq/error.hpp"
#include "llvq/model.hpp"

namespace llvq::test {

inline std::string shared_data(const std::string& rel) { return llvq::test::data_file(rel); }
inline std::string stories_bin() { return shared_data("models/stories260K/stories260K.bin"); }
inline std::string stories_tok() { return shared_data("models/stories260K/tok512.bin"); }

// A fresh directory under the system temp dir, removed when the object dies.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    path_ = std::filesystem::temp_directory_path() /
            ("llvq_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string path() const { return path_.string(); }

 private:
  static int& counter() {
    static int c = 0;
    return c;
  }
  std::filesystem::path path_;
};

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Runs a shell command; returns its exit status and (via `output`) stdout+stderr.
inline int run_command(const std::string& cmd, std::string* output = nullptr) {
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return -1;
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = ::pclose(p);
  if (output) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The llvq CLI with `args`: exit status and stdout+stderr.
struct CliRun {
  int code;
  std::string out;
};
inline CliRun run_cli(const std::string& args) {
  CliRun r;
  r.code = run_command(std::string(LLVQ_CLI_PATH) + " " + args, &r.out);
  return r;
}

// Bit-exact equality of two float vectors (NaN-safe, distinguishes -0 from +0).
inline bool bits_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

inline void expect_same_config(const LlamaConfig& a, const LlamaConfig& b) {
  EXPECT_EQ(a.dim, b.dim);
  EXPECT_EQ(a.hidden_dim, b.hidden_dim);
  EXPECT_EQ(a.n_layers, b.n_layers);
  EXPECT_EQ(a.n_heads, b.n_heads);
  EXPECT_EQ(a.n_kv_heads, b.n_kv_heads);
  EXPECT_EQ(a.vocab_size, b.vocab_size);
  EXPECT_EQ(a.seq_len, b.seq_len);
  EXPECT_EQ(a.norm_eps, b.norm_eps);
  EXPECT_EQ(a.rope_theta, b.rope_theta);
  EXPECT_EQ(a.rope_style, b.rope_style);
  EXPECT_EQ(a.tied_embeddings, b.tied_embeddings);
}

inline void expect_linear_equal(const std::shared_ptr<Linear>& a, const std::shared_ptr<Linear>& b,
                                const std::string& what) {
  ASSERT_TRUE(a && b) << what;
  EXPECT_EQ(a->out_features(), b->out_features()) << what;
  EXPECT_EQ(a->in_features(), b->in_features()) << what;
  EXPECT_TRUE(bits_equal(a->dense_weight(), b->dense_weight())) << what;
}

// Every weight bit-exactly equal, and the same hyper-parameters.
inline void expect_models_equal(const LlamaModel& a, const LlamaModel& b) {
  expect_same_config(a.config, b.config);
  EXPECT_TRUE(bits_equal(a.tok_embeddings, b.tok_embeddings)) << "tok_embeddings";
  EXPECT_TRUE(bits_equal(a.final_norm, b.final_norm)) << "final_norm";
  expect_linear_equal(a.output, b.output, "output");
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t l = 0; l < a.layers.size(); ++l) {
    const auto &x = a.layers[l], &y = b.layers[l];
    const std::string at = " of layer " + std::to_string(l);
    EXPECT_TRUE(bits_equal(x.attn_norm, y.attn_norm)) << "attn_norm" << at;
    EXPECT_TRUE(bits_equal(x.ffn_norm, y.ffn_norm)) << "ffn_norm" << at;
    expect_linear_equal(x.wq, y.wq, "wq" + at);
    expect_linear_equal(x.wk, y.wk, "wk" + at);
    expect_linear_equal(x.wv, y.wv, "wv" + at);
    expect_linear_equal(x.wo, y.wo, "wo" + at);
    expect_linear_equal(x.w1, y.w1, "w1" + at);
    expect_linear_equal(x.w2, y.w2, "w2" + at);
    expect_linear_equal(x.w3, y.w3, "w3" + at);
  }
}

// Expects `fn` to throw llvq::InputError whose message contains every one of `parts`.
template <class Fn>
void expect_input_error(Fn fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "no exception thrown";
  } catch (const InputError& e) {
    for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what() << " lacks " << p;
  }
}

}  // namespace llvq::test
