// Spec parsing, the registry, the row-level driver shared by every codec, and per-group
// scale side information.
#include "llvq/codec.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cctype>
#include <charconv>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "codec/codec_impl.hpp"
#include "llvq/error.hpp"
#include "llvq/parallel.hpp"

namespace llvq {

namespace {

bool valid_token(const std::string& s, bool allow_dash) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_' ||
          (allow_dash && c == '-')))
      return false;
  return true;
}

bool valid_value(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' || c == '_')) return false;
  return true;
}

}  // namespace

CodecSpec CodecSpec::parse(const std::string& text) {
  CodecSpec spec;
  const size_t colon = text.find(':');
  spec.name_ = text.substr(0, colon);
  if (!valid_token(spec.name_, true)) throw InputError("codec spec '" + text + "': bad codec name");
  if (colon == std::string::npos) return spec;
  std::stringstream rest(text.substr(colon + 1));
  std::string item;
  while (std::getline(rest, item, ',')) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos) throw InputError("codec spec '" + text + "': expected key=value, got '" + item + "'");
    const std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    if (!valid_token(key, false)) throw InputError("codec spec '" + text + "': bad key '" + key + "'");
    if (!valid_value(value)) throw InputError("codec spec '" + text + "': bad value for '" + key + "'");
    if (!spec.params_.emplace(key, value).second)
      throw InputError("codec spec '" + text + "': key '" + key + "' given twice");
  }
  if (spec.params_.empty() || text.back() == ',') throw InputError("codec spec '" + text + "': empty parameter list");
  return spec;
}

const std::string* CodecSpec::lookup(const std::string& key) const {
  used_.insert(key);
  const auto it = params_.find(key);
  return it == params_.end() ? nullptr : &it->second;
}

int CodecSpec::get_int(const std::string& key, int fallback, int lo, int hi) const {
  const std::string* v = lookup(key);
  if (!v) return fallback;
  int out = 0;
  const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec == std::errc::result_out_of_range && end == v->data() + v->size())
    throw InputError(name_ + ": parameter " + key + "=" + *v + " is outside [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "]");
  if (ec != std::errc() || end != v->data() + v->size())
    throw InputError(name_ + ": parameter " + key + "=" + *v + " is not an integer");
  if (out < lo || out > hi)
    throw InputError(name_ + ": parameter " + key + "=" + *v + " is outside [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "]");
  return out;
}

double CodecSpec::get_double(const std::string& key, double fallback, double lo, double hi) const {
  const std::string* v = lookup(key);
  if (!v) return fallback;
  double out = 0;
  const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || end != v->data() + v->size() || !std::isfinite(out))
    throw InputError(name_ + ": parameter " + key + "=" + *v + " is not a number");
  if (out < lo || out > hi)
    throw InputError(name_ + ": parameter " + key + "=" + *v + " is outside [" + codec_detail::format_param(lo) +
                     ", " + codec_detail::format_param(hi) + "]");
  return out;
}

std::string CodecSpec::get_choice(const std::string& key, const std::string& fallback,
                                  const std::vector<std::string>& allowed) const {
  const std::string* v = lookup(key);
  if (!v) return fallback;
  for (const auto& a : allowed)
    if (*v == a) return a;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : "|") + a;
  throw InputError(name_ + ": parameter " + key + "=" + *v + " is not one of " + list);
}

void CodecSpec::check_all_used() const {
  for (const auto& [key, value] : params_)
    if (!used_.count(key)) throw InputError(name_ + ": unknown parameter '" + key + "'");
}

// ---------------------------------------------------------------- Codec row driver

void Codec::check_row_length(size_t n) const {
  if (n == 0 || n % block_dim() != 0)
    throw InputError(name() + ": row length " + std::to_string(n) + " is not a positive multiple of the block size " +
                     std::to_string(block_dim()));
}

double Codec::bits_per_weight(size_t n) const {
  check_row_length(n);
  return static_cast<double>(row_bits(n)) / static_cast<double>(n);
}

// Blocks per parallel task: enough weights per task that scheduling is negligible even for
// cheap codecs (a scalar "block" is one weight).
size_t Codec::block_grain() const { return std::max<size_t>(1, 256 / block_dim()); }

void Codec::quantize_dequantize_block(const RowSide& side, size_t j, const float* x, float* xhat) const {
  BitWriter scratch;
  quantize_block(side, j, x, xhat, scratch);
}

void Codec::decode_row(BitReader& in, size_t n, float* w) const {
  check_row_length(n);
  const RowSide side = read_side(in, n);
  for (size_t j = 0; j < blocks_per_row(n); ++j) decode_block(side, j, in, w + j * block_dim());
}

std::vector<uint8_t> Codec::encode_rows(const float* w, size_t rows, size_t n) const {
  check_row_length(n);
  const size_t d = block_dim(), nb = blocks_per_row(n), bb = block_bits(), words = (bb + 63) / 64;
  std::vector<RowSide> sides(rows);
  parallel_for(rows, 1, [&](size_t r) { sides[r] = fit_side(w + r * n, n); });
  // Blocks are quantized in parallel into fixed-width slots, then packed in order.
  std::vector<uint64_t> codes(rows * nb * words);
  parallel_for(rows * nb, block_grain(), [&](size_t t) {
    thread_local std::vector<float> xhat;
    thread_local BitWriter code;
    xhat.resize(d);
    code.clear();
    const size_t r = t / nb, j = t % nb;
    quantize_block(sides[r], j, w + r * n + j * d, xhat.data(), code);
    if (code.size_bits() != bb) throw std::logic_error(name() + ": block code has the wrong width");
    std::copy(code.words().begin(), code.words().end(), codes.begin() + static_cast<ptrdiff_t>(t * words));
  });
  BitWriter out;
  for (size_t r = 0; r < rows; ++r) {
    write_side(sides[r], out);
    for (size_t j = 0; j < nb; ++j) out.append(&codes[(r * nb + j) * words], bb);
  }
  if (out.size_bits() != rows * row_bits(n)) throw std::logic_error(name() + ": row code has the wrong width");
  return out.bytes();
}

// Calls body(side, j, reader, t) for block t = r·blocks_per_row + j of every row, on all
// cores, the reader holding the block's bits; sides are read first, row by row.
template <class Body>
void Codec::for_each_coded_block(const uint8_t* data, size_t size_bytes, size_t rows, size_t n, Body&& body) const {
  check_row_length(n);
  const size_t rb = row_bits(n), sb = side_bits(n), bb = block_bits(), nb = blocks_per_row(n);
  if (size_bytes != (rows * rb + 7) / 8)
    throw InputError(name() + ": packed data has " + std::to_string(size_bytes) + " bytes, expected " +
                     std::to_string((rows * rb + 7) / 8));
  std::vector<RowSide> sides(rows);
  parallel_for(rows, 1, [&](size_t r) {
    BitReader in(data, size_bytes, r * rb, r * rb + sb);
    sides[r] = read_side(in, n);
  });
  parallel_for(rows * nb, block_grain(), [&](size_t t) {
    const size_t r = t / nb, j = t % nb, begin = r * rb + sb + j * bb;
    BitReader in(data, size_bytes, begin, begin + bb);
    body(sides[r], j, in, t);
  });
}

void Codec::decode_rows(const uint8_t* data, size_t size_bytes, size_t rows, size_t n, float* w) const {
  const size_t d = block_dim();
  for_each_coded_block(data, size_bytes, rows, n, [&](const RowSide& side, size_t j, BitReader& in, size_t t) {
    decode_block(side, j, in, w + t * d);
  });
}

bool Codec::decode_block_integers(const RowSide&, size_t, BitReader&, int8_t*, double&) const { return false; }

bool Codec::decode_rows_integers(const uint8_t* data, size_t size_bytes, size_t rows, size_t n, int8_t* v,
                                 float* factors) const {
  const size_t d = block_dim();
  std::atomic<bool> all{true};
  for_each_coded_block(data, size_bytes, rows, n, [&](const RowSide& side, size_t j, BitReader& in, size_t t) {
    double factor = 0;
    if (!decode_block_integers(side, j, in, v + t * d, factor)) all.store(false, std::memory_order_relaxed);
    factors[t] = static_cast<float>(factor);
  });
  return all.load();
}

void Codec::quantize_dequantize_rows(const float* w, size_t rows, size_t n, float* out) const {
  check_row_length(n);
  const size_t d = block_dim(), nb = blocks_per_row(n);
  std::vector<RowSide> sides(rows);
  parallel_for(rows, 1, [&](size_t r) { sides[r] = fit_side(w + r * n, n); });
  parallel_for(rows * nb, block_grain(), [&](size_t t) {
    const size_t r = t / nb, j = t % nb;
    quantize_dequantize_block(sides[r], j, w + r * n + j * d, out + r * n + j * d);
  });
}

// ---------------------------------------------------------------- registry

namespace {
struct Entry {
  const char* name;
  const char* description;
  std::unique_ptr<Codec> (*make)(const CodecSpec&);
};

const std::vector<Entry>& registry() {
  static const std::vector<Entry> entries = {
      {"scalar", "uniform or Lloyd-Max scalar quantizer, per-row or per-group scales (bpw, kind, group)",
       codec_detail::make_scalar},
      {"e8p", "QuIP#-style E8P: 8 weights in 16 bits, exact nearest search (group)", codec_detail::make_e8p},
      {"pvq", "pyramid VQ S(L,K) with Fischer enumeration + gain (bpw, dim, gain_bits)", codec_detail::make_pvq},
      {"llvq-sg",
       "Leech shape-gain: exact angular search over shells 2..M + chi gain (bpw, gain_bits); bpw=3: Λ24(45) + 7 gain "
       "levels, bpw=4: J/14J + 24 (radius-scan search; shells or modulus, gain_levels)",
       codec_detail::make_llvq_sg},
      {"llvq-ss", "Leech spherical shaping: Euclidean search in a ball or Voronoi code (bpw, group)",
       codec_detail::make_llvq_ss},
      {"l24sq", "spherical Leech quantizer: 196,560 minimal vectors, 18 bits per 24 weights",
       codec_detail::make_l24sq},
  };
  return entries;
}
}  // namespace

size_t smallest_row_length(const Codec& codec, size_t at_least, size_t at_most) {
  const size_t d = codec.block_dim();
  for (size_t n = std::max<size_t>(1, (at_least + d - 1) / d) * d; n <= at_most; n += d) {
    try {
      codec.check_row_length(n);
      return n;
    } catch (const InputError&) {
    }
  }
  throw InputError(codec.spec() + ": no row length in [" + std::to_string(at_least) + ", " + std::to_string(at_most) +
                   "] fits its block and group");
}

std::unique_ptr<Codec> make_codec(const std::string& text) {
  const CodecSpec spec = CodecSpec::parse(text);
  for (const Entry& e : registry())
    if (spec.name() == e.name) {
      auto codec = e.make(spec);
      spec.check_all_used();
      return codec;
    }
  std::string names;
  for (const Entry& e : registry()) names += std::string(names.empty() ? "" : ", ") + e.name;
  throw InputError("unknown codec '" + spec.name() + "' (known: " + names + ")");
}

std::shared_ptr<const Codec> shared_codec(const std::string& spec) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const Codec>> cache;
  const std::lock_guard<std::mutex> lock(mutex);
  auto& slot = cache[spec];
  if (!slot) slot = std::shared_ptr<const Codec>(make_codec(spec));
  return slot;
}

std::vector<std::pair<std::string, std::string>> codec_catalog() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Entry& e : registry()) out.emplace_back(e.name, e.description);
  return out;
}

// ---------------------------------------------------------------- scales

namespace codec_detail {

uint16_t scale_to_bf16(float scale) {
  if (!std::isfinite(scale) || scale < 0) throw InputError("weights give a non-finite scale");
  const uint32_t bits = std::bit_cast<uint32_t>(scale);
  const uint32_t rounded = bits + 0x7FFF + ((bits >> 16) & 1);
  if ((rounded >> 23 & 0xFF) == 0xFF) throw InputError("scale overflows bfloat16");
  return static_cast<uint16_t>(rounded >> 16);
}

std::string format_param(double v) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, ec == std::errc() ? end : buf);
}

void ScaledCodec::check_group() const {
  if (group_ % block_dim() != 0)
    throw InputError(name() + ": group=" + std::to_string(group_) + " is not a multiple of the block size " +
                     std::to_string(block_dim()));
}

std::string ScaledCodec::group_param() const { return group_ ? ",group=" + std::to_string(group_) : ""; }

void ScaledCodec::check_row_length(size_t n) const {
  Codec::check_row_length(n);
  if (group_ && n % group_ != 0)
    throw InputError(name() + ": row length " + std::to_string(n) + " is not a multiple of group=" +
                     std::to_string(group_));
}

size_t ScaledCodec::side_bits(size_t n) const { return kScaleBits * (n / effective_group(n)); }

RowSide ScaledCodec::fit_side(const float* w, size_t n) const {
  check_row_length(n);
  RowSide side;
  side.group = effective_group(n);
  for (size_t g = 0; g < n; g += side.group) {
    double sum2 = 0;
    for (size_t i = g; i < g + side.group; ++i) sum2 += static_cast<double>(w[i]) * w[i];
    if (!std::isfinite(sum2)) throw InputError(name() + ": weights contain NaN or infinity");
    const double rms = std::sqrt(sum2 / static_cast<double>(side.group));
    side.scales.push_back(bf16_to_scale(scale_to_bf16(static_cast<float>(rms * rms_factor_))));
  }
  return side;
}

void ScaledCodec::write_side(const RowSide& side, BitWriter& out) const {
  for (float s : side.scales) out.put(scale_to_bf16(s), kScaleBits);
}

RowSide ScaledCodec::read_side(BitReader& in, size_t n) const {
  check_row_length(n);
  RowSide side;
  side.group = effective_group(n);
  for (size_t g = 0; g < n; g += side.group) {
    const float s = bf16_to_scale(static_cast<uint16_t>(in.get(kScaleBits)));
    if (!std::isfinite(s) || s < 0) throw InputError(name() + ": corrupt scale in packed data");
    side.scales.push_back(s);
  }
  return side;
}

}  // namespace codec_detail

float bf16_to_scale(uint16_t bits) { return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16); }

}  // namespace llvq
