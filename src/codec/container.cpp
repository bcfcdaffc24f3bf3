#include "llvq/codec_container.hpp"

#include <array>
#include <cstdint>
#include <cstring>
#include <fstream>

#include "llvq/error.hpp"
#include "llvq/output_file.hpp"

namespace llvq {

namespace {

constexpr char kMagic[8] = {'L', 'L', 'V', 'Q', 'C', 'O', 'D', 'E'};
constexpr uint32_t kVersion = 1;
constexpr uint32_t kMaxSpecLength = 4096;


template <class T>
void put_le(std::vector<uint8_t>& out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * i)));
}

class Cursor {
 public:
  explicit Cursor(const std::vector<uint8_t>& b) : b_(b) {}
  template <class T>
  T get(const char* what) {
    need(sizeof(T), what);
    uint64_t v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<uint64_t>(b_[pos_ + i]) << (8 * i);
    pos_ += sizeof(T);
    return static_cast<T>(v);
  }
  const uint8_t* take(size_t n, const char* what) {
    need(n, what);
    pos_ += n;
    return b_.data() + pos_ - n;
  }
  size_t pos() const { return pos_; }

 private:
  void need(size_t n, const char* what) const {
    if (n > b_.size() - pos_) throw InputError(std::string("codec container is truncated (in ") + what + ")");
  }
  const std::vector<uint8_t>& b_;
  size_t pos_ = 0;
};

}  // namespace

uint32_t crc32(std::span<const uint8_t> data, uint32_t crc) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = crc ^ 0xFFFFFFFFu;
  for (const uint8_t b : data) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::vector<uint8_t> serialize_container(const CodecContainer& c) {
  std::vector<uint8_t> out(kMagic, kMagic + 8);
  put_le<uint32_t>(out, kVersion);
  put_le<uint32_t>(out, static_cast<uint32_t>(c.spec.size()));
  out.insert(out.end(), c.spec.begin(), c.spec.end());
  put_le<uint64_t>(out, c.count);
  put_le<uint64_t>(out, c.row_length);
  put_le<uint64_t>(out, c.payload.size());
  out.insert(out.end(), c.payload.begin(), c.payload.end());
  put_le<uint32_t>(out, crc32(out));
  return out;
}

CodecContainer parse_container(const std::vector<uint8_t>& bytes) {
  Cursor in(bytes);
  if (std::memcmp(in.take(8, "magic"), kMagic, 8) != 0) throw InputError("not an llvq codec container (bad magic)");
  const uint32_t version = in.get<uint32_t>("version");
  if (version != kVersion) throw InputError("unsupported codec container version " + std::to_string(version));
  CodecContainer c;
  const uint32_t spec_length = in.get<uint32_t>("spec length");
  if (spec_length == 0 || spec_length > kMaxSpecLength) throw InputError("corrupt codec container (spec length)");
  const uint8_t* spec = in.take(spec_length, "spec");
  c.spec.assign(spec, spec + spec_length);
  c.count = in.get<uint64_t>("count");
  c.row_length = in.get<uint64_t>("row length");
  const uint64_t payload = in.get<uint64_t>("payload length");
  const uint8_t* data = in.take(payload, "payload");
  const size_t checked = in.pos();
  const uint32_t crc = in.get<uint32_t>("checksum");
  if (in.pos() != bytes.size()) throw InputError("corrupt codec container (trailing bytes)");
  if (crc != crc32(std::span<const uint8_t>(bytes.data(), checked))) throw InputError("corrupt codec container (checksum mismatch)");
  // The checksum also matches a well-formed file written by a buggy or hostile encoder, so
  // the fields are still validated against the codec.
  const auto codec = make_codec(c.spec);
  if (c.row_length == 0 || c.count % c.row_length != 0)
    throw InputError("corrupt codec container (count is not a multiple of the row length)");
  codec->check_row_length(c.row_length);
  const uint64_t rows = c.count / c.row_length;
  const uint64_t row_bits = codec->row_bits(c.row_length);
  if (rows > (UINT64_MAX - 7) / row_bits || (rows * row_bits + 7) / 8 != payload)
    throw InputError("corrupt codec container (payload size does not match count and codec)");
  c.payload.assign(data, data + payload);
  return c;
}

CodecContainer encode_container(const Codec& codec, const float* w, size_t count, size_t row_length) {
  if (row_length == 0 || count % row_length != 0)
    throw InputError("weight count " + std::to_string(count) + " is not a multiple of the row length " +
                     std::to_string(row_length));
  CodecContainer c;
  c.spec = codec.spec();
  c.count = count;
  c.row_length = row_length;
  c.payload = codec.encode_rows(w, count / row_length, row_length);
  return c;
}

std::vector<float> decode_container(const CodecContainer& c) {
  const auto codec = make_codec(c.spec);
  std::vector<float> w(c.count);
  codec->decode_rows(c.payload.data(), c.payload.size(), c.count / c.row_length, c.row_length, w.data());
  return w;
}

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  check_input_file(path);
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) throw InputError("cannot open " + path);
  const std::streamoff size = f.tellg();
  if (size < 0) throw InputError("cannot read " + path);
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  f.seekg(0);
  if (!f.read(reinterpret_cast<char*>(bytes.data()), size)) throw InputError("cannot read " + path);
  return bytes;
}

}  // namespace llvq
