// Device detection and DeviceMatrix: upload of the layout and launch of the kernels.
#include <algorithm>
#include <limits>
#include <map>
#include <mutex>

#include "kernels/cuda/device_matrix.cuh"
#include "llvq/codec.hpp"
#include "llvq/error.hpp"

namespace llvq::cuda {

namespace {

using detail::check;
using detail::check_launch;

// A GPU is usable when the runtime finds one and this binary holds code it can run (a GPU
// older than the compiled architectures has no kernel image). Any failure, including a
// missing driver, means "no device"; the sticky error state is cleared.
bool probe_device() noexcept {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count <= 0) {
    (void)cudaGetLastError();
    return false;
  }
  cudaFuncAttributes attributes;
  if (cudaFuncGetAttributes(&attributes, detail::fused_gemv_kernel<detail::E8pFamily, float>) != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  return true;
}

int as_int(int64_t v, const char* what) {
  if (v > std::numeric_limits<int>::max()) throw InputError(std::string("CUDA kernels: too many ") + what);
  return static_cast<int>(v);
}

unsigned grid_for(int64_t items, int per_block) {
  const int64_t blocks = (items + per_block - 1) / per_block;
  return static_cast<unsigned>(std::min<int64_t>(blocks, std::numeric_limits<int>::max()));
}

// The kernels' parameter per family.
detail::E8pFamily::Params params_of(const DeviceMatrix::Impl& m, detail::E8pFamily) {
  return reinterpret_cast<const detail::E8pTables*>(m.tables->get());
}
detail::OctetFamily::Params params_of(const DeviceMatrix::Impl& m, detail::OctetFamily) { return m.octet; }

template <class F, class X>
void launch_gemv(const DeviceMatrix::Impl& m, const X* x, float* y, cudaStream_t stream) {
  detail::fused_gemv_kernel<F, X><<<grid_for(m.rows, detail::kWarpsPerCta), detail::kWarpsPerCta * detail::kWarp, 0,
                                    stream>>>(params_of(m, F{}), m.codes.get(), m.scales.get(), x, y, m.shape);
  check_launch("fused GEMV kernel");
}

// The Leech family multiplies x in its blocks' trio order: `tokens` inputs permuted (and
// widened to float) once per call into x_slots, then read by every row.
template <class X>
void permute_x(const DeviceMatrix::Impl& m, const X* x, int tokens, cudaStream_t stream) {
  constexpr int kThreads = 256;
  const int64_t n = tokens * m.cols;
  detail::permute_x_kernel<X><<<grid_for(n, kThreads), kThreads, 0, stream>>>(m.octet.trio, x, m.x_slots.get(), n);
  check_launch("x permutation kernel");
}

template <int kTokens>
void launch_octet_gemv(const DeviceMatrix::Impl& m, float* y, cudaStream_t stream) {
  detail::octet_gemv_kernel<kTokens><<<grid_for(m.rows, detail::kWarpsPerCta), detail::kWarpsPerCta * detail::kWarp,
                                       0, stream>>>(m.octet, m.codes.get(), m.scales.get(), m.x_slots.get(), y,
                                                    m.shape);
  check_launch("fused GEMV kernel");
}

// Up to kMaxTokens inputs (already in x_slots) through the kernel instantiated for that count.
void launch_octet_tokens(const DeviceMatrix::Impl& m, int tokens, float* y, cudaStream_t stream) {
  switch (tokens) {
    case 1: return launch_octet_gemv<1>(m, y, stream);
    case 2: return launch_octet_gemv<2>(m, y, stream);
    case 3: return launch_octet_gemv<3>(m, y, stream);
    case 4: return launch_octet_gemv<4>(m, y, stream);
    case 5: return launch_octet_gemv<5>(m, y, stream);
    case 6: return launch_octet_gemv<6>(m, y, stream);
    case 7: return launch_octet_gemv<7>(m, y, stream);
    default: return launch_octet_gemv<8>(m, y, stream);
  }
}

template <class X>
void launch_leech_gemv(const DeviceMatrix::Impl& m, const X* x, float* y, cudaStream_t stream) {
  permute_x(m, x, 1, stream);
  if (detail::leech_gemv() == detail::LeechGemv::LanePerBlock) {
    launch_gemv<detail::OctetFamily, float>(m, m.x_slots.get(), y, stream);
    return;
  }
  launch_octet_gemv<1>(m, y, stream);
}

template <class F>
void launch_decode(const DeviceMatrix::Impl& m, __half* out, cudaStream_t stream) {
  detail::decode_half_kernel<F><<<grid_for(m.rows * m.shape.blocks_per_row, detail::kDecodeThreads),
                                  detail::kDecodeThreads, 0, stream>>>(params_of(m, F{}), m.codes.get(),
                                                                       m.scales.get(), out, m.shape);
  check_launch("decode-to-half kernel");
}

// The device copy of a codec's tables (keyed by the host tables, one per codec spec), kept while
// a matrix uses it.
std::shared_ptr<const detail::DeviceBuffer<uint8_t>> device_tables(const detail::HostLayout& l) {
  static std::mutex mutex;
  static std::map<const void*, std::weak_ptr<const detail::DeviceBuffer<uint8_t>>> cache;
  const std::lock_guard<std::mutex> lock(mutex);
  if (auto alive = cache[l.tables].lock()) return alive;
  auto tables = std::make_shared<detail::DeviceBuffer<uint8_t>>(l.table_bytes);
  tables->upload(static_cast<const uint8_t*>(l.tables), l.table_bytes);
  cache[l.tables] = tables;
  return tables;
}

}  // namespace

// This file is compiled only in CUDA builds, so what can be missing is the device.
void require_device() {
  if (!device_available()) throw InputError("no usable CUDA device (none present, no driver, or an unsupported GPU)");
}

bool built() { return true; }

bool device_available() {
  static const bool available = probe_device();
  return available;
}

std::string device_name() {
  if (!device_available()) return "";
  int device = 0;
  cudaDeviceProp prop;
  if (cudaGetDevice(&device) != cudaSuccess || cudaGetDeviceProperties(&prop, device) != cudaSuccess) {
    (void)cudaGetLastError();
    return "";
  }
  return prop.name;
}

DeviceMatrix::Impl::Impl(const detail::HostLayout& l)
    : family(l.family),
      spec(l.spec),
      rows(l.rows),
      cols(l.cols),
      bytes(l.bytes()),
      shape{l.rows, l.cols, as_int(l.blocks_per_row, "blocks per row"), as_int(l.blocks_per_group, "blocks per group"),
            as_int(l.groups_per_row, "scale groups per row")},
      codes(l.codes.size()),
      scales(l.scales.size()),
      escapes(l.escapes.size() * sizeof(kernels::octet::Escape)),
      tables(device_tables(l)),
      x_slots(l.family == detail::Family::Leech ? static_cast<size_t>(kMaxTokens * l.cols) : 0) {
  codes.upload(l.codes.data(), l.codes.size());
  scales.upload(l.scales.data(), l.scales.size());
  escapes.upload(reinterpret_cast<const uint8_t*>(l.escapes.data()), escapes.size());
  if (family == detail::Family::Leech)
    octet = detail::octet_view(*static_cast<const detail::OctetBlockTables*>(l.tables), tables->get(),
                               reinterpret_cast<const kernels::octet::Escape*>(escapes.get()));
}

void DeviceMatrix::Impl::decode_half(__half* out, cudaStream_t stream) const {
  switch (family) {
    case detail::Family::E8p: launch_decode<detail::E8pFamily>(*this, out, stream); break;
    case detail::Family::Leech: launch_decode<detail::OctetFamily>(*this, out, stream); break;
  }
}
void DeviceMatrix::Impl::gemv(const float* x, float* y, cudaStream_t stream) const {
  switch (family) {
    case detail::Family::E8p: launch_gemv<detail::E8pFamily>(*this, x, y, stream); break;
    case detail::Family::Leech: launch_leech_gemv(*this, x, y, stream); break;
  }
}
void DeviceMatrix::Impl::gemm(const float* x, int64_t tokens, float* y, cudaStream_t stream) const {
  for (int64_t t = 0; t < tokens;) {
    const int chunk = static_cast<int>(std::min<int64_t>(tokens - t, kMaxTokens));
    if (family == detail::Family::Leech) {
      permute_x(*this, x + t * cols, chunk, stream);
      launch_octet_tokens(*this, chunk, y + t * rows, stream);
    } else {
      for (int i = 0; i < chunk; ++i) gemv(x + (t + i) * cols, y + (t + i) * rows, stream);
    }
    t += chunk;
  }
}
void DeviceMatrix::Impl::gemv(const __half* x, float* y, cudaStream_t stream) const {
  switch (family) {
    case detail::Family::E8p: launch_gemv<detail::E8pFamily>(*this, x, y, stream); break;
    case detail::Family::Leech: launch_leech_gemv(*this, x, y, stream); break;
  }
}

DeviceMatrix::DeviceMatrix(const Codec& codec, const uint8_t* codes, size_t size, int64_t rows, int64_t cols) {
  require_device();
  impl_ = std::make_unique<Impl>(detail::make_layout(codec, codes, size, rows, cols));
}

DeviceMatrix::DeviceMatrix(const kernels::PackedMatrix& m) {
  require_device();
  const auto codec = make_codec(m.codec_spec());
  const std::vector<uint8_t> codes = m.to_codes();
  impl_ = std::make_unique<Impl>(detail::make_layout(*codec, codes.data(), codes.size(), m.rows(), m.cols()));
}

DeviceMatrix::~DeviceMatrix() = default;
DeviceMatrix::DeviceMatrix(DeviceMatrix&&) noexcept = default;
DeviceMatrix& DeviceMatrix::operator=(DeviceMatrix&&) noexcept = default;

int64_t DeviceMatrix::rows() const { return impl_->rows; }
int64_t DeviceMatrix::cols() const { return impl_->cols; }
std::string DeviceMatrix::codec_spec() const { return impl_->spec; }
uint64_t DeviceMatrix::bytes() const { return impl_->bytes; }

std::vector<uint16_t> DeviceMatrix::decode_half() const {
  const size_t n = static_cast<size_t>(impl_->rows * impl_->cols);
  detail::DeviceBuffer<__half> out(n);
  impl_->decode_half(out.get(), nullptr);
  std::vector<uint16_t> host(n);
  check(cudaMemcpy(host.data(), out.get(), n * sizeof(__half), cudaMemcpyDeviceToHost), "cudaMemcpy to host");
  return host;
}

namespace {
// `tokens` inputs of cols entries uploaded, launch(dx, dy) run on them, the tokens × rows
// results brought back.
template <class DeviceX, class HostX, class Launch>
std::vector<float> run_on_device(const DeviceMatrix::Impl& m, const std::vector<HostX>& x, int64_t tokens,
                                 Launch&& launch) {
  if (tokens < 1 || static_cast<int64_t>(x.size()) != tokens * m.cols)
    throw InputError("CUDA GEMV: x has " + std::to_string(x.size()) + " entries; " + std::to_string(tokens) +
                     " input(s) of the matrix's " + std::to_string(m.cols) + " columns need " +
                     std::to_string(tokens * m.cols));
  detail::DeviceBuffer<DeviceX> dx(x.size());
  check(cudaMemcpy(dx.get(), x.data(), x.size() * sizeof(HostX), cudaMemcpyHostToDevice), "cudaMemcpy to device");
  detail::DeviceBuffer<float> dy(static_cast<size_t>(tokens * m.rows));
  launch(dx.get(), dy.get());
  std::vector<float> y(dy.size());
  dy.download(y.data(), y.size());
  return y;
}
}  // namespace

std::vector<float> DeviceMatrix::gemv(const std::vector<float>& x) const {
  return run_on_device<float>(*impl_, x, 1, [&](const float* dx, float* dy) { impl_->gemv(dx, dy, nullptr); });
}
std::vector<float> DeviceMatrix::gemm(const std::vector<float>& x, int64_t tokens) const {
  return run_on_device<float>(*impl_, x, tokens,
                              [&](const float* dx, float* dy) { impl_->gemm(dx, tokens, dy, nullptr); });
}
std::vector<float> DeviceMatrix::gemv_half(const std::vector<uint16_t>& x) const {
  static_assert(sizeof(__half) == sizeof(uint16_t));
  return run_on_device<__half>(*impl_, x, 1, [&](const __half* dx, float* dy) { impl_->gemv(dx, dy, nullptr); });
}

}  // namespace llvq::cuda
