// Internal helpers shared by the model file readers and writers: bounds-checked little-
// endian reads that name the file and field on failure, overflow-checked size arithmetic,
// and writing through a temporary file that is renamed into place at the end.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <ostream>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "llvq/error.hpp"
#include "llvq/model.hpp"

namespace llvq::io {

// The whole file; throws InputError naming the path when it cannot be read.
std::vector<uint8_t> read_file_bytes(const std::string& path);

// a·b and a+b, throwing InputError("<file>: <what> overflows") instead of wrapping.
uint64_t checked_mul(uint64_t a, uint64_t b, const std::string& file, const std::string& what);
uint64_t checked_add(uint64_t a, uint64_t b, const std::string& file, const std::string& what);

// Sequential reader over an in-memory file image. Every read checks the remaining length.
class Cursor {
 public:
  Cursor(std::span<const uint8_t> bytes, std::string file) : bytes_(bytes), file_(std::move(file)) {}

  template <class T>
  T read(const std::string& field) {
    static_assert(std::is_trivially_copyable_v<T>);
    require(sizeof(T), field);
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  // Throws unless `n` more bytes are available for `field`.
  void require(uint64_t n, const std::string& field) const;
  std::span<const uint8_t> take(uint64_t n, const std::string& field);
  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return bytes_.size() - pos_; }
  uint64_t size() const { return bytes_.size(); }
  void seek(uint64_t pos, const std::string& field);
  const std::string& file() const { return file_; }
  // InputError with the file name and the byte offset, for errors found while parsing.
  [[noreturn]] void fail(const std::string& message) const;

 private:
  std::span<const uint8_t> bytes_;
  std::string file_;
  uint64_t pos_ = 0;
};

// Writes `path` through llvq::write_output (temporary file, fsync, rename; removed on errors
// and signals) with replacing allowed: the caller has already applied the overwrite rules.
void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);

// LlamaConfig computes kv_dim() = dim·n_kv_heads/n_heads in int: loaders call this before
// using it so that absurd header values are an error instead of an overflow.
void require_kv_dim_fits(const LlamaConfig& c, const std::string& file);

}  // namespace llvq::io
