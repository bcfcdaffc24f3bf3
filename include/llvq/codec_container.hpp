// A small self-describing file for codec output, so decoding needs no options:
//
//   "LLVQCODE"  u32 version (1)  u32 spec length  spec bytes (canonical codec spec)
//   u64 weight count  u64 row length  u64 payload bytes  payload  u32 CRC-32 of all before
//
// All integers little-endian. The payload is Codec::encode_rows of count / row_length rows.
// Every field is validated on load (and the spec through make_codec), so a truncated or
// corrupt file gives an InputError, never a crash.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "llvq/codec.hpp"

namespace llvq {

struct CodecContainer {
  std::string spec;
  uint64_t count = 0;
  uint64_t row_length = 0;
  std::vector<uint8_t> payload;
};

std::vector<uint8_t> serialize_container(const CodecContainer& c);
CodecContainer parse_container(const std::vector<uint8_t>& bytes);

// Encodes `count` weights as rows of `row_length` with `codec`, and back.
CodecContainer encode_container(const Codec& codec, const float* w, size_t count, size_t row_length);
std::vector<float> decode_container(const CodecContainer& c);

// CRC-32 (IEEE 802.3, the container's and zlib's), chainable: crc32(b, crc32(a)) is the CRC
// of a followed by b.
uint32_t crc32(std::span<const uint8_t> data, uint32_t crc = 0);

// Whole-file helpers; throw InputError on I/O failures.
std::vector<uint8_t> read_file_bytes(const std::string& path);

}  // namespace llvq
