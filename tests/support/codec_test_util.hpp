// Helpers shared by the codec tests (header-only: each test file is its own executable).
#pragma once

#include <gtest/gtest.h>

#include <vector>

#include "llvq/bitstream.hpp"
#include "llvq/codec.hpp"
#include "random.hpp"

namespace codec_test {

// Round trip of `rows` rows of n weights: the packed size is exactly rows·row_bits(n) bits;
// decoding reproduces what the sequential quantize_block produced (and the quantize-
// dequantize fast path agrees); encoding twice gives identical bytes. Returns the MSE.
inline double check_round_trip(const llvq::Codec& codec, size_t rows, size_t n, uint64_t seed) {
  const auto w = llvq::test::gaussian(rows * n, seed, 0.02);  // a typical weight magnitude
  const auto packed = codec.encode_rows(w.data(), rows, n);
  EXPECT_EQ(packed.size(), (rows * codec.row_bits(n) + 7) / 8);
  EXPECT_EQ(packed, codec.encode_rows(w.data(), rows, n)) << "encoding is not deterministic";
  std::vector<float> back(w.size()), fast(w.size());
  codec.decode_rows(packed.data(), packed.size(), rows, n, back.data());
  codec.quantize_dequantize_rows(w.data(), rows, n, fast.data());
  EXPECT_EQ(back, fast) << "quantize_dequantize disagrees with decode";
  // Sequential use of the first row, block by block, must give the same code and blocks.
  const size_t d = codec.block_dim();
  const llvq::RowSide side = codec.fit_side(w.data(), n);
  llvq::BitWriter seq;
  codec.write_side(side, seq);
  std::vector<float> xhat(d);
  for (size_t j = 0; j < n / d; ++j) {
    codec.quantize_block(side, j, &w[j * d], xhat.data(), seq);
    for (size_t i = 0; i < d; ++i) EXPECT_EQ(xhat[i], back[j * d + i]) << "block " << j;
  }
  const auto seq_bytes = seq.bytes();
  llvq::BitReader reader(seq_bytes.data(), seq_bytes.size());
  std::vector<float> row(n);
  codec.decode_row(reader, n, row.data());
  EXPECT_EQ(row, std::vector<float>(back.begin(), back.begin() + static_cast<ptrdiff_t>(n)));
  double err = 0, power = 0;
  for (size_t i = 0; i < w.size(); ++i) err += (w[i] - back[i]) * (w[i] - back[i]), power += w[i] * w[i];
  return err / power;  // relative MSE (the source has variance 0.02²)
}

}  // namespace codec_test
