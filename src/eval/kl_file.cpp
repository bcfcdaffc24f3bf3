#include "eval/kl_file.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "llvq/error.hpp"

namespace llvq::detail {

namespace {

constexpr char kMagic[8] = {'L', 'L', 'V', 'Q', 'K', 'L', 'D', '1'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 8 + 4 * 4 + 3 * 8;
constexpr float kRange = 60.0f;  // nats below the most likely token that are kept

template <class T>
void put(std::ostream& out, T v) {
  out.write(reinterpret_cast<const char*>(&v), sizeof v);
}

template <class T>
bool get(std::ifstream& in, T& v) {
  return static_cast<bool>(in.read(reinterpret_cast<char*>(&v), sizeof v));
}

std::string describe(const KlHeader& h) {
  return "vocab " + std::to_string(h.vocab) + ", ctx " + std::to_string(h.ctx) + ", protocol " +
         (h.protocol == 0 ? "windows" : "llamacpp") + ", " + std::to_string(h.windows) + " windows, " +
         std::to_string(h.scored) + " scored tokens";
}

}  // namespace

uint64_t hash_tokens(std::span<const int32_t> tokens) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a offset basis
  for (const int32_t t : tokens)
    for (int b = 0; b < 4; ++b) {
      h ^= (static_cast<uint32_t>(t) >> (8 * b)) & 0xFF;
      h *= 1099511628211ull;  // FNV prime
    }
  return h;
}

KlRow quantize_log_probs(std::span<const float> log_probs, uint32_t argmax) {
  KlRow row;
  row.argmax = argmax;
  const auto [lo_it, hi_it] = std::minmax_element(log_probs.begin(), log_probs.end());
  const float hi = *hi_it;
  row.lo = std::max(*lo_it, hi - kRange);
  row.step = (hi - row.lo) / 65535.0f;
  row.codes.resize(log_probs.size());
  for (size_t v = 0; v < log_probs.size(); ++v) {
    const float x = std::clamp(log_probs[v], row.lo, hi);
    row.codes[v] = row.step > 0 ? static_cast<uint16_t>(std::lround((x - row.lo) / row.step)) : 0;
  }
  return row;
}

void dequantize_log_probs(const KlRow& row, std::span<float> log_probs) {
  double top = -INFINITY;
  for (size_t v = 0; v < log_probs.size(); ++v) {
    log_probs[v] = row.lo + row.step * static_cast<float>(row.codes[v]);
    top = std::max(top, static_cast<double>(log_probs[v]));
  }
  double sum = 0;
  for (const float x : log_probs) sum += std::exp(x - top);
  const float lse = static_cast<float>(top + std::log(sum));
  for (float& x : log_probs) x -= lse;
}

KlWriter::KlWriter(const std::string& path, const KlHeader& header, bool force)
    : path_(path), header_(header), file_(path, OutputPolicy{.force = force, .inputs = {}}), out_(file_.stream()) {
  out_.write(kMagic, sizeof kMagic);
  put(out_, kVersion);
  put(out_, header.vocab);
  put(out_, header.ctx);
  put(out_, header.protocol);
  put(out_, header.windows);
  put(out_, header.scored);
  put(out_, header.token_hash);
}

void KlWriter::write(const KlRow& row) {
  put(out_, row.argmax);
  put(out_, row.lo);
  put(out_, row.step);
  out_.write(reinterpret_cast<const char*>(row.codes.data()), static_cast<std::streamsize>(row.codes.size() * 2));
  ++rows_;
}

void KlWriter::close() {
  if (!out_ || rows_ != header_.scored) throw InputError("writing KL reference file " + path_ + " failed");
  file_.commit();
}

KlReader::KlReader(const std::string& path, const KlHeader& expected)
    : path_(path), vocab_(expected.vocab), in_(path, std::ios::binary) {
  if (!in_) throw InputError("cannot open KL reference file " + path);
  char magic[8];
  KlHeader h;
  uint32_t version = 0;
  if (!in_.read(magic, sizeof magic) || std::memcmp(magic, kMagic, sizeof magic) != 0)
    throw InputError(path + " is not an llvq KL reference file (saved by llvq eval --kl-base)");
  if (!get(in_, version) || version != kVersion)
    throw InputError("KL reference file " + path + " has unsupported version " + std::to_string(version));
  if (!get(in_, h.vocab) || !get(in_, h.ctx) || !get(in_, h.protocol) || !get(in_, h.windows) ||
      !get(in_, h.scored) || !get(in_, h.token_hash))
    throw InputError("KL reference file " + path + " is truncated in its header");
  if (h.vocab != expected.vocab || h.ctx != expected.ctx || h.protocol != expected.protocol ||
      h.windows != expected.windows || h.scored != expected.scored)
    throw InputError("KL reference file " + path + " was saved for " + describe(h) + "; this run has " +
                     describe(expected) + " (use the same text, --ctx, --protocol and --max-tokens, and a model "
                     "with the same vocabulary)");
  if (h.token_hash != expected.token_hash)
    throw InputError("KL reference file " + path + " was saved for a different text or tokenizer (token hash differs)");
  const uint64_t size = std::filesystem::file_size(path);
  if (size != kHeaderBytes + h.scored * (12 + 2 * static_cast<uint64_t>(h.vocab)))
    throw InputError("KL reference file " + path + " has " + std::to_string(size) + " bytes, not the size its header implies");
}

void KlReader::read(KlRow& row) {
  row.codes.resize(vocab_);
  if (!get(in_, row.argmax) || !get(in_, row.lo) || !get(in_, row.step) ||
      !in_.read(reinterpret_cast<char*>(row.codes.data()), static_cast<std::streamsize>(row.codes.size() * 2)))
    throw InputError("KL reference file " + path_ + " is truncated");
  if (row.argmax >= vocab_ || !std::isfinite(row.lo) || !std::isfinite(row.step) || row.step < 0)
    throw InputError("KL reference file " + path_ + " holds a corrupt row");
}

}  // namespace llvq::detail
