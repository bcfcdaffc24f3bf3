#include "io_util.hpp"

#include <fstream>

#include "llvq/output_file.hpp"

namespace llvq::io {

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  check_input_file(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open file");
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) throw InputError(path + ": cannot determine the file size");
  in.seekg(0, std::ios::beg);
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size))
    throw InputError(path + ": read error");
  return bytes;
}

uint64_t checked_mul(uint64_t a, uint64_t b, const std::string& file, const std::string& what) {
  uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) throw InputError(file + ": " + what + " overflows 64 bits");
  return r;
}

uint64_t checked_add(uint64_t a, uint64_t b, const std::string& file, const std::string& what) {
  uint64_t r;
  if (__builtin_add_overflow(a, b, &r)) throw InputError(file + ": " + what + " overflows 64 bits");
  return r;
}

void Cursor::require(uint64_t n, const std::string& field) const {
  if (n > remaining())
    throw InputError(file_ + ": truncated: " + field + " needs " + std::to_string(n) + " bytes at offset " +
                     std::to_string(pos_) + " but the file has " + std::to_string(remaining()) + " left");
}

std::span<const uint8_t> Cursor::take(uint64_t n, const std::string& field) {
  require(n, field);
  auto s = bytes_.subspan(pos_, n);
  pos_ += n;
  return s;
}

void Cursor::seek(uint64_t pos, const std::string& field) {
  if (pos > bytes_.size())
    throw InputError(file_ + ": " + field + " offset " + std::to_string(pos) + " is beyond the end of the file (" +
                     std::to_string(bytes_.size()) + " bytes)");
  pos_ = pos;
}

void Cursor::fail(const std::string& message) const {
  throw InputError(file_ + ": " + message + " (at byte " + std::to_string(pos_) + ")");
}

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  // The callers decided about replacing an existing file; the shared policy still refuses
  // directories, devices and missing directories, and cleans up on errors and signals.
  write_output(path, OutputPolicy{.force = true, .inputs = {}}, write);
}

void require_kv_dim_fits(const LlamaConfig& c, const std::string& file) {
  if (static_cast<int64_t>(c.dim) * c.n_kv_heads > INT32_MAX)
    throw InputError(file + ": dim " + std::to_string(c.dim) + " × n_kv_heads " + std::to_string(c.n_kv_heads) +
                     " is too large");
}

}  // namespace llvq::io
