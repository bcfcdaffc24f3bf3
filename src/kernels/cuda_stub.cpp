// Entry points of llvq/cuda_kernels.hpp for builds without the CUDA toolkit (or sanitizer
// builds, cmake/cuda.cmake): no device, and everything that needs one throws InputError.
#ifndef LLVQ_HAVE_CUDA
#include "llvq/cuda_kernels.hpp"
#include "llvq/error.hpp"

namespace llvq::cuda {

namespace {
[[noreturn]] void no_cuda() {
  throw InputError("this llvq was built without CUDA (nvcc was not found at configure time, or LLVQ_CUDA / "
                   "LLVQ_SANITIZE turned it off)");
}
}  // namespace

bool built() { return false; }
void require_device() { no_cuda(); }
bool device_available() { return false; }
std::string device_name() { return ""; }

struct DeviceMatrix::Impl {};
DeviceMatrix::DeviceMatrix(const Codec&, const uint8_t*, size_t, int64_t, int64_t) { no_cuda(); }
DeviceMatrix::DeviceMatrix(const kernels::PackedMatrix&) { no_cuda(); }
DeviceMatrix::~DeviceMatrix() = default;
DeviceMatrix::DeviceMatrix(DeviceMatrix&&) noexcept = default;
DeviceMatrix& DeviceMatrix::operator=(DeviceMatrix&&) noexcept = default;
int64_t DeviceMatrix::rows() const { no_cuda(); }
int64_t DeviceMatrix::cols() const { no_cuda(); }
std::string DeviceMatrix::codec_spec() const { no_cuda(); }
uint64_t DeviceMatrix::bytes() const { no_cuda(); }
std::vector<uint16_t> DeviceMatrix::decode_half() const { no_cuda(); }
std::vector<float> DeviceMatrix::gemv(const std::vector<float>&) const { no_cuda(); }
std::vector<float> DeviceMatrix::gemv_half(const std::vector<uint16_t>&) const { no_cuda(); }
std::vector<float> DeviceMatrix::gemm(const std::vector<float>&, int64_t) const { no_cuda(); }

}  // namespace llvq::cuda
#endif
