// CUDA kernels for quantized matrices: decode to half precision and fused decode + GEMV, on a
// GPU copy of the matrix in its own layout (docs/kernels-cuda.md). Compiled when the CUDA
// toolkit is found at build time (LLVQ_HAVE_CUDA); otherwise every entry point that needs a
// GPU reports that clearly (InputError).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "llvq/kernels.hpp"

namespace llvq {
class Codec;
}

namespace llvq::cuda {

bool built();               // compiled with CUDA support
bool device_available();    // built() and a usable GPU is present (never throws)
std::string device_name();  // "" when none
// InputError saying why there is no usable GPU (no CUDA in this build, or no device) unless
// device_available().
void require_device();

// Whether the CUDA kernels handle this codec (host-side check; works in every build).
bool has_kernels(const Codec& codec);

// A quantized matrix [rows, cols] uploaded to the GPU. Errors of the CUDA runtime or cuBLAS
// throw std::runtime_error with the CUDA error string.
class DeviceMatrix {
 public:
  // From the codec's bitstream (Codec::encode_rows layout). InputError when there is no
  // device, the codec has no CUDA kernels, or the shape and size do not match.
  DeviceMatrix(const Codec& codec, const uint8_t* codes, size_t size, int64_t rows, int64_t cols);
  // From a CPU kernel matrix (through its bitstream, so any CPU layout works).
  explicit DeviceMatrix(const kernels::PackedMatrix& m);
  ~DeviceMatrix();
  DeviceMatrix(DeviceMatrix&&) noexcept;
  DeviceMatrix& operator=(DeviceMatrix&&) noexcept;

  int64_t rows() const;
  int64_t cols() const;
  std::string codec_spec() const;
  uint64_t bytes() const;  // GPU bytes of codes + scales (shared tables excluded)

  // The whole matrix as IEEE half bits [rows, cols], through the decode kernel.
  std::vector<uint16_t> decode_half() const;
  // y = W·x through the fused kernel, x fp32 or fp16 (IEEE half bits), y fp32.
  std::vector<float> gemv(const std::vector<float>& x) const;
  std::vector<float> gemv_half(const std::vector<uint16_t>& x) const;
  // y_t = W·x_t for `tokens` inputs (x [tokens][cols], y [tokens][rows]): the Leech kernel
  // decodes each block once for up to 8 tokens (each token's result bit-identical to gemv's);
  // E8P runs its GEMV per token.
  std::vector<float> gemm(const std::vector<float>& x, int64_t tokens) const;

  // The device-side implementation (src/kernels/cuda), for the benchmark.
  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace llvq::cuda
