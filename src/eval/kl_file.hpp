// The --kl-base file: a reference model's log-probabilities over the full vocabulary at
// every scored token, so that another model (a quantization) can be compared to it later
// without running both at once. Layout (little-endian):
//   header: "LLVQKLD1", u32 version (1), u32 vocab, u32 ctx, u32 protocol (0 windows,
//           1 llamacpp), u64 windows, u64 scored tokens, u64 FNV-1a hash of the evaluated
//           token ids;
//   per scored token: u32 argmax of the reference logits, f32 lo, f32 step,
//           u16 q[vocab] with log p[v] ≈ lo + step · q[v].
// 16-bit codes over [max log p - 60, max log p] keep the log-probability to ±0.0005 nats
// (probabilities below e^-60 are clamped there); the reader renormalizes, so a model
// compared with itself gives KL ≈ 1e-7, not the quantization's first-order error.
#pragma once

#include "llvq/output_file.hpp"

#include <cstdint>
#include <fstream>
#include <span>
#include <string>
#include <vector>

namespace llvq::detail {

struct KlHeader {
  uint32_t vocab = 0;
  uint32_t ctx = 0;
  uint32_t protocol = 0;
  uint64_t windows = 0;
  uint64_t scored = 0;
  uint64_t token_hash = 0;
};

uint64_t hash_tokens(std::span<const int32_t> tokens);

// One quantized row: argmax, lo, step and the 16-bit codes.
struct KlRow {
  uint32_t argmax = 0;
  float lo = 0, step = 0;
  std::vector<uint16_t> codes;
};

KlRow quantize_log_probs(std::span<const float> log_probs, uint32_t argmax);
// Dequantized and renormalized log-probabilities.
void dequantize_log_probs(const KlRow& row, std::span<float> log_probs);

class KlWriter {
 public:
  // Written through llvq::OutputFile: a temporary file renamed into place by close().
  KlWriter(const std::string& path, const KlHeader& header, bool force);
  void write(const KlRow& row);
  void close();  // checks that every promised row was written, then commits the file

 private:
  std::string path_;
  KlHeader header_;
  uint64_t rows_ = 0;
  OutputFile file_;
  std::ostream& out_;
};

class KlReader {
 public:
  // Throws InputError unless the file is a KL reference saved for exactly `expected`.
  KlReader(const std::string& path, const KlHeader& expected);
  void read(KlRow& row);

 private:
  std::string path_;
  uint32_t vocab_;
  std::ifstream in_;
};

}  // namespace llvq::detail
