// Human-facing output shared by every long-running command: aligned tables and a progress
// line with an ETA that redraws in place on a terminal and prints plain lines otherwise.
#pragma once

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace llvq {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void add_row(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  // Right-aligned columns separated by two spaces, a rule under the header.
  std::string to_string() const;
  // GitHub-flavoured markdown table.
  std::string to_markdown() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// Wall-clock seconds since t0 (steady clock).
inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// printf-style formatting into a std::string.
std::string strfmt(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// Called with (stage, steps done, total steps, detail) as a long computation advances, for
// front ends that draw their own progress (the Python module's callbacks and tqdm bars). It
// runs on the calling thread, outside parallel regions; it may throw to abort the work.
using ProgressCallback = std::function<void(const std::string& stage, size_t done, size_t total, const std::string& detail)>;

class Progress {
 public:
  // `total` steps; output goes to stderr. `enabled=false` silences stderr; `callback`, when
  // set, hears every update either way.
  Progress(std::string label, size_t total, bool enabled = true, ProgressCallback callback = {});
  // Marks `done` steps complete and reports them with `detail` (e.g. the tensor name).
  void update(size_t done, const std::string& detail = "");
  void finish();
  double elapsed_seconds() const;

 private:
  std::string label_;
  size_t total_;
  bool enabled_;
  ProgressCallback callback_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace llvq
