#include "llvq/output_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "llvq/error.hpp"

namespace llvq {
namespace {

namespace fs = std::filesystem;

// Temporary files being written, for the signal handler: fixed storage, since the handler
// may only call async-signal-safe functions (unlink, signal, raise).
constexpr int kSlots = 8;
constexpr size_t kPathMax = 4096;
char pending[kSlots][kPathMax];
volatile sig_atomic_t used[kSlots];
std::mutex slots_mutex;

extern "C" void remove_pending_and_reraise(int sig) {
  for (int i = 0; i < kSlots; ++i)
    if (used[i]) ::unlink(pending[i]);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void install_handlers_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (int sig : {SIGINT, SIGTERM}) {
      struct sigaction old {};
      ::sigaction(sig, nullptr, &old);
      if (old.sa_handler != SIG_DFL) continue;  // somebody else handles it: leave it alone
      struct sigaction sa {};
      sa.sa_handler = remove_pending_and_reraise;
      ::sigemptyset(&sa.sa_mask);
      ::sigaction(sig, &sa, nullptr);
    }
  });
}

// A temporary file registered with the signal handler for its lifetime; removed unless kept.
class PendingFile {
 public:
  explicit PendingFile(const std::string& path) : path_(path) {
    install_handlers_once();
    if (path.size() >= kPathMax) throw InputError(path + ": path too long");
    const std::lock_guard<std::mutex> lock(slots_mutex);
    for (int i = 0; i < kSlots; ++i)
      if (!used[i]) {
        std::memcpy(pending[i], path.c_str(), path.size() + 1);
        used[i] = 1;
        slot_ = i;
        return;
      }
    throw InputError(path + ": too many files being written at once");
  }
  ~PendingFile() {
    std::error_code ec;
    if (!kept_) fs::remove(path_, ec);
    const std::lock_guard<std::mutex> lock(slots_mutex);
    used[slot_] = 0;
  }
  PendingFile(const PendingFile&) = delete;
  PendingFile& operator=(const PendingFile&) = delete;

  const std::string& path() const { return path_; }
  // Flushes the data to disk and renames the file over `target`.
  void commit(const std::string& target) {
    const int fd = ::open(path_.c_str(), O_RDONLY);
    if (fd < 0 || ::fsync(fd) != 0) {
      const std::string why = std::strerror(errno);
      if (fd >= 0) ::close(fd);
      throw InputError(target + ": cannot flush " + path_ + " to disk: " + why);
    }
    ::close(fd);
    std::error_code ec;
    fs::rename(path_, target, ec);
    if (ec) throw InputError(target + ": cannot rename the temporary file into place: " + ec.message());
    kept_ = true;
  }

 private:
  std::string path_;
  int slot_ = -1;
  bool kept_ = false;
};

// ".<name>.tmp-<pid>" in the target's directory, so that the rename stays on one file system.
std::string temporary_name(const std::string& path) {
  const fs::path p(path);
  std::string name = ".";
  name += p.filename().string();
  name += ".tmp-";
  name += std::to_string(::getpid());
  return (p.parent_path() / name).string();
}

}  // namespace

void check_input_file(const std::string& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (fs::is_directory(st)) throw InputError(path + ": is a directory, expected a file");
  if (fs::exists(st) && !fs::is_regular_file(st))
    throw InputError(path + ": is not a regular file (a device or special file)");
}

void check_output(const std::string& path, const OutputPolicy& policy) {
  if (path.empty()) throw InputError("an output path is empty");
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  const bool exists = fs::exists(st);
  if (exists) {
    for (const std::string& in : policy.inputs)
      if (!in.empty() && fs::equivalent(in, path, ec))
        throw InputError(path + ": refusing to overwrite an input (this command's data is read from " + in + ")");
    if (fs::is_directory(st)) throw InputError(path + ": is a directory, not a file");
    if (!fs::is_regular_file(st)) throw InputError(path + ": is not a regular file (a device or special file)");
    if (!policy.force) throw InputError(path + ": output exists (use --force to replace it)");
  }
  const fs::path dir = fs::path(path).parent_path().empty() ? fs::path(".") : fs::path(path).parent_path();
  if (!fs::is_directory(dir, ec)) throw InputError(path + ": directory " + dir.string() + " does not exist");
  if (::access(dir.c_str(), W_OK) != 0) throw InputError(path + ": directory " + dir.string() + " is not writable");
}

struct OutputFile::Pending {
  explicit Pending(const std::string& tmp) : file(tmp) {}
  PendingFile file;
};

OutputFile::OutputFile(std::string path, OutputPolicy policy) : path_(std::move(path)), policy_(std::move(policy)) {
  check_output(path_, policy_);
  pending_ = std::make_unique<Pending>(temporary_name(path_));
}

OutputFile::~OutputFile() = default;

const std::string& OutputFile::temporary_path() const { return pending_->file.path(); }

std::ostream& OutputFile::stream() {
  if (!out_.is_open()) {
    out_.open(temporary_path(), std::ios::binary | std::ios::trunc);
    if (!out_) throw InputError(path_ + ": cannot create " + temporary_path());
  }
  return out_;
}

void OutputFile::commit() {
  if (out_.is_open()) {
    out_.flush();
    if (!out_) throw InputError(path_ + ": write error (disk full?)");
    out_.close();
  }
  check_output(path_, policy_);  // nothing appeared there meanwhile
  pending_->file.commit(path_);
}

void write_output(const std::string& path, const OutputPolicy& policy, const std::function<void(std::ostream&)>& write) {
  OutputFile out(path, policy);
  write(out.stream());
  out.commit();
}

void produce_output(const std::string& path, const OutputPolicy& policy,
                    const std::function<void(const std::string& tmp)>& produce) {
  OutputFile out(path, policy);
  produce(out.temporary_path());
  out.commit();
}

}  // namespace llvq
