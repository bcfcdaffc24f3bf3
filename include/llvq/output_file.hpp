// The file policies of llvq. Inputs: a path that is read as a file must be a regular file, never
// a directory, device or FIFO (which would read as empty or forever).
//
// Outputs: the one policy of every file llvq writes (models, compressed files, KL references, codec
// containers, tables, plots): an output never replaces one of the command's inputs, never
// replaces an existing file without `force`, is never a directory, device or other special
// file, and is checked before the long work starts; it is written to a temporary file in
// the same directory, flushed to disk and renamed into place, and the temporary file is
// removed on every error and on SIGINT / SIGTERM.
#pragma once

#include <fstream>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace llvq {

// InputError naming the path when it exists and is not a regular file; a missing path is left
// to the opener's own error.
void check_input_file(const std::string& path);

struct OutputPolicy {
  bool force = false;               // an existing regular file may be replaced
  std::vector<std::string> inputs;  // files the command reads (compared through links)
};

// InputError naming the path unless it may be written under the policy: non-empty, not an
// input, not an existing file without force, not an existing non-regular file, and its
// directory exists and is writable.
void check_output(const std::string& path, const OutputPolicy& policy);

// One output being written: check_output at construction, a temporary file next to the
// target (registered for removal on SIGINT / SIGTERM), commit() flushes it to disk and renames
// it into place; destroyed without commit() (an error), it removes the temporary file.
class OutputFile {
 public:
  OutputFile(std::string path, OutputPolicy policy);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  const std::string& path() const { return path_; }
  const std::string& temporary_path() const;
  // The temporary file as a binary stream (opened on first use).
  std::ostream& stream();
  void commit();

 private:
  struct Pending;
  std::string path_;
  OutputPolicy policy_;
  std::unique_ptr<Pending> pending_;
  std::ofstream out_;
};

// check_output, then the atomic write: `write` fills a temporary file next to `path`, which
// is flushed (fsync) and renamed over it. On any exception, or if the process is interrupted
// by SIGINT or SIGTERM meanwhile, the temporary file is removed and `path` is untouched.
void write_output(const std::string& path, const OutputPolicy& policy, const std::function<void(std::ostream&)>& write);

// The same for a file that another program writes (gnuplot's PNG): `produce` receives the
// temporary path to write, which is renamed over `path` when it returns.
void produce_output(const std::string& path, const OutputPolicy& policy,
                    const std::function<void(const std::string& tmp)>& produce);

}  // namespace llvq
