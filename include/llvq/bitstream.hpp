// Bit packing for codec payloads. Bits are stored least-significant first in 64-bit words
// that are serialised little-endian, so a stream of fields of arbitrary widths occupies
// exactly Σ widths bits (rounded up to whole bytes only at the very end).
#pragma once

#include <cstdint>
#include <algorithm>
#include <cstring>
#include <vector>

#include "llvq/error.hpp"

namespace llvq {

class BitWriter {
 public:
  // Appends the low `nbits` (0..64) bits of `value`.
  void put(uint64_t value, int nbits) {
    if (nbits == 0) return;
    if (nbits < 64) value &= (uint64_t{1} << nbits) - 1;
    const int used = static_cast<int>(bits_ % 64);
    if (used == 0) words_.push_back(0);
    words_.back() |= value << used;
    if (used + nbits > 64) words_.push_back(value >> (64 - used));
    bits_ += static_cast<size_t>(nbits);
  }
  // Appends `nbits` bits of a word array written by another BitWriter (any length).
  void append(const uint64_t* words, size_t nbits) {
    size_t i = 0;
    for (; nbits >= 64; nbits -= 64) put(words[i++], 64);
    put(nbits ? words[i] : 0, static_cast<int>(nbits));
  }
  void append(const BitWriter& other) { append(other.words_.data(), other.bits_); }
  size_t size_bits() const { return bits_; }
  const std::vector<uint64_t>& words() const { return words_; }
  void clear() {
    words_.clear();
    bits_ = 0;
  }
  // The stream as ⌈bits/8⌉ bytes, little-endian.
  std::vector<uint8_t> bytes() const {
    std::vector<uint8_t> out((bits_ + 7) / 8);
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(words_[i / 8] >> (8 * (i % 8)));
    return out;
  }

 private:
  std::vector<uint64_t> words_;
  size_t bits_ = 0;
};

// Reads fields back from a byte buffer; every read past `end_bit` throws InputError, so a
// truncated payload can never be read out of bounds.
class BitReader {
 public:
  BitReader(const uint8_t* data, size_t size_bytes)
      : data_(data), size_bytes_(size_bytes), pos_(0), end_(size_bytes * 8) {}
  // A window [begin_bit, end_bit) of the buffer, for random access to one row or block.
  BitReader(const uint8_t* data, size_t size_bytes, size_t begin_bit, size_t end_bit)
      : data_(data), size_bytes_(size_bytes), pos_(begin_bit), end_(end_bit) {
    if (end_bit > size_bytes * 8 || begin_bit > end_bit) throw InputError("bit window outside the buffer");
  }

  uint64_t get(int nbits) {
    if (nbits == 0) return 0;
    if (pos_ + static_cast<size_t>(nbits) > end_) throw InputError("packed code is truncated");
    if (nbits <= 56 && pos_ / 8 + 8 <= size_bytes_) {  // fast path: one unaligned load (little-endian host)
      uint64_t word;
      std::memcpy(&word, data_ + pos_ / 8, 8);
      const uint64_t value = (word >> (pos_ % 8)) & ((uint64_t{1} << nbits) - 1);
      pos_ += static_cast<size_t>(nbits);
      return value;
    }
    uint64_t value = 0;
    int got = 0;
    while (got < nbits) {
      const size_t byte = pos_ / 8;
      const int offset = static_cast<int>(pos_ % 8);
      const int take = std::min(8 - offset, nbits - got);
      const uint64_t bits = (static_cast<uint64_t>(data_[byte]) >> offset) & ((1u << take) - 1);
      value |= bits << got;
      got += take;
      pos_ += static_cast<size_t>(take);
    }
    return value;
  }
  void skip(size_t nbits) {
    if (pos_ + nbits > end_) throw InputError("packed code is truncated");
    pos_ += nbits;
  }
  size_t position() const { return pos_; }
  size_t remaining() const { return end_ - pos_; }

 private:
  const uint8_t* data_;
  size_t size_bytes_;
  size_t pos_;
  size_t end_;
};

}  // namespace llvq
