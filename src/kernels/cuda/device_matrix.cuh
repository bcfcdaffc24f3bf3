// DeviceMatrix's implementation, shared by the public methods (device_matrix.cu) and the
// benchmark (bench/cuda_gemv.cu), which calls the kernels on device pointers without host copies.
#pragma once

#include <cuda_fp16.h>

#include <memory>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/kernels.cuh"
#include "kernels/cuda/layout.hpp"
#include "llvq/cuda_kernels.hpp"

namespace llvq::cuda {

struct DeviceMatrix::Impl {
  explicit Impl(const detail::HostLayout& layout);

  // Asynchronous on `stream`; device pointers. out: [rows, cols] halves; x: cols; y: rows.
  void decode_half(__half* out, cudaStream_t stream) const;
  void gemv(const float* x, float* y, cudaStream_t stream) const;
  void gemv(const __half* x, float* y, cudaStream_t stream) const;
  // x [tokens][cols] → y [tokens][rows]; the Leech kernel takes kMaxTokens at a time.
  void gemm(const float* x, int64_t tokens, float* y, cudaStream_t stream) const;
  static constexpr int kMaxTokens = 8;

  detail::Family family;
  std::string spec;
  int64_t rows, cols;
  uint64_t bytes;
  detail::KernelShape shape;
  detail::DeviceBuffer<uint8_t> codes;
  detail::DeviceBuffer<float> scales;
  detail::DeviceBuffer<uint8_t> escapes;  // Leech: octet::Escape entries
  // The family's Tables struct, byte for byte; one copy per codec, shared by its matrices (the
  // Leech tables take 6.9 MiB).
  std::shared_ptr<const detail::DeviceBuffer<uint8_t>> tables;
  // Leech: up to kMaxTokens inputs in the blocks' trio order, rewritten by every GEMV call (so
  // concurrent calls on one matrix must share a stream).
  mutable detail::DeviceBuffer<float> x_slots;
  detail::OctetView octet{};  // Leech: the kernels' view of the device tables and escapes
};

}  // namespace llvq::cuda
