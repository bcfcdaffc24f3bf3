#include "llvq/hadamard.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>

#include "llvq/error.hpp"
#include "llvq/report.hpp"

namespace llvq {
namespace {

// The unnormalised transform of n rows of `width` contiguous entries each (H_n acting on the
// rows of an n×width matrix): butterflies between whole rows, so every entry sees the
// operations of a one-column transform. kWidth1 makes width a constant 1 (the plain vector
// transform), so that the loop over rows vectorises across entries: with a run-time width of
// 1 it did not (2–3.5× slower at n = 4096).
template <bool kWidth1, typename T>
void butterflies(T* x, size_t n, size_t width) {
  if constexpr (kWidth1) width = 1;
  for (size_t h = 1; h < n; h <<= 1)
    for (size_t i = 0; i < n; i += 2 * h)
      for (size_t r = i; r < i + h; ++r) {
        T* u = x + r * width;
        T* v = x + (r + h) * width;
        for (size_t c = 0; c < width; ++c) {
          const T s = u[c], d = v[c];
          u[c] = s + d;
          v[c] = s - d;
        }
      }
}

template <typename T>
void fwht_rows(T* x, size_t n, size_t width) {
  if (n == 0 || (n & (n - 1)) != 0) throw std::invalid_argument("fwht: size must be a power of two");
  width == 1 ? butterflies<true>(x, n, width) : butterflies<false>(x, n, width);
}

bool is_prime(int q) {
  if (q < 2) return false;
  for (int d = 2; d * d <= q; ++d)
    if (q % d == 0) return false;
  return true;
}

// Largest usable Paley factor: its dense multiply costs n·(q+1) per vector.
constexpr size_t kMaxPaley = 256;

// Splits n = a·b with a a power of two and b the small factor, preferring a Paley size.
void choose_factors(size_t n, size_t& a, size_t& b, bool& paley) {
  const size_t twos = static_cast<size_t>(std::countr_zero(n));
  const size_t odd = n >> twos;
  paley = false;
  if (odd == 1) {
    a = n;
    b = 1;
    return;
  }
  for (size_t j = 0; j <= twos; ++j) {
    const size_t size = odd << j;
    if (size > kMaxPaley) break;
    const int q = static_cast<int>(size) - 1;
    if (q % 4 == 3 && is_prime(q)) {
      a = n / size;
      b = size;
      paley = true;
      return;
    }
  }
  a = size_t{1} << twos;
  b = odd;
}

std::vector<float> random_orthogonal(size_t b, std::mt19937_64& rng) {
  std::normal_distribution<double> gauss;
  Eigen::MatrixXd g(b, b);
  for (size_t i = 0; i < b; ++i)
    for (size_t j = 0; j < b; ++j) g(i, j) = gauss(rng);
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(g);
  Eigen::MatrixXd q = qr.householderQ();
  // Fix the column signs by R's diagonal so the result does not depend on QR conventions.
  const Eigen::MatrixXd r = qr.matrixQR().triangularView<Eigen::Upper>();
  for (size_t j = 0; j < b; ++j)
    if (r(j, j) < 0) q.col(j) = -q.col(j);
  std::vector<float> out(b * b);
  for (size_t i = 0; i < b; ++i)
    for (size_t j = 0; j < b; ++j) out[i * b + j] = static_cast<float>(q(i, j));
  return out;
}

}  // namespace

void fwht(float* x, size_t n) { fwht_rows(x, n, 1); }
void fwht(double* x, size_t n) { fwht_rows(x, n, 1); }

std::vector<int8_t> paley_hadamard(int q) {
  if (q % 4 != 3 || !is_prime(q)) throw std::invalid_argument("paley_hadamard: q must be a prime ≡ 3 mod 4");
  std::vector<int> chi(q, -1);  // quadratic character mod q
  chi[0] = 0;
  for (int x = 1; x < q; ++x) chi[(x * x) % q] = 1;
  const int n = q + 1;
  // H = I + S with S skew-symmetric: S = [[0, 1ᵀ], [-1, Jacobsthal]].
  std::vector<int8_t> h(static_cast<size_t>(n) * n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      int s;
      if (i == j) s = 0;
      else if (i == 0) s = 1;
      else if (j == 0) s = -1;
      else s = chi[((j - i) % q + q) % q];
      h[static_cast<size_t>(i) * n + j] = static_cast<int8_t>(s + (i == j ? 1 : 0));
    }
  return h;
}

RandomizedHadamard::RandomizedHadamard(size_t n, uint64_t seed) : n_(n), seed_(seed) {
  if (n == 0) throw InputError("Hadamard transform of size 0");
  bool paley = false;
  choose_factors(n, a_, b_, paley);
  std::mt19937_64 rng(seed);
  signs_.resize(n);
  for (auto& s : signs_) s = (rng() & 1) ? -1.0f : 1.0f;
  if (b_ > 1) {
    if (paley) {
      small_kind_ = "paley";
      const auto h = paley_hadamard(static_cast<int>(b_) - 1);
      const float scale = 1.0f / std::sqrt(static_cast<float>(b_));
      small_.resize(h.size());
      for (size_t i = 0; i < h.size(); ++i) small_[i] = h[i] * scale;  // rounded to float, then widened
    } else {
      small_kind_ = "orth";
      const std::vector<float> q = random_orthogonal(b_, rng);
      small_.assign(q.begin(), q.end());
    }
    small_f_.resize(small_.size());
    small_t_.resize(small_.size());
    small_pad_.assign(b_ * padded_b(), 0.0f);
    small_t_pad_.assign(b_ * padded_b(), 0.0f);
    for (size_t i = 0; i < b_; ++i)
      for (size_t j = 0; j < b_; ++j) {
        const auto v = static_cast<float>(small_[i * b_ + j]);  // exact: the entries are floats
        small_f_[i * b_ + j] = v;
        small_t_[j * b_ + i] = v;
        small_pad_[i * padded_b() + j] = v;
        small_t_pad_[j * padded_b() + i] = v;
      }
  }
}

std::string RandomizedHadamard::construction() const {
  if (b_ == 1) return strfmt("H%zu", a_);
  return strfmt("H%zu x %s%zu", a_, small_kind_.c_str(), b_);
}

// Outputs j0 .. j0 + 16·V − 1 of one row: V vectors of 16 accumulators (GCC's generic vectors:
// registers at every instruction-set level, V independent chains), input by input over the
// row's b entries; `coef` rows padded to `stride`.
template <size_t V>
void RandomizedHadamard::output_chunk(const float* row, const float* coef, size_t stride, size_t j0, float* out) const {
  typedef float Lanes __attribute__((vector_size(64)));
  Lanes acc[V] = {};
  for (size_t k = 0; k < b_; ++k) {
    const float xk = row[k];
    const float* c = coef + k * stride + j0;
    for (size_t v = 0; v < V; ++v) {
      Lanes cv;
      std::memcpy(&cv, c + 16 * v, sizeof cv);
      acc[v] += xk * cv;
    }
  }
  std::memcpy(out + j0, acc, sizeof acc);
}

void RandomizedHadamard::apply_small_factor(float* x, bool transpose) const {
  if (b_ == 1) return;
  using RowMatF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using RowMatD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const auto a = static_cast<Eigen::Index>(a_), b = static_cast<Eigen::Index>(b_);
  // x viewed as an a×b row-major matrix X: (H ⊗ B)·vec(X) = vec(H·X·Bᵀ); here X ← X·Bᵀ (or
  // X·B), one small matrix product accumulated in double, as every release has computed it
  // (the weights a file decodes to depend on it to the last bit). A lazy (coefficient-based)
  // product: Eigen's blocked GEMM would hand this small product to its OpenMP threads whenever
  // the caller runs outside a parallel region, and waking them cost more than the product.
  Eigen::Map<RowMatF> xm(x, a, b);
  const Eigen::Map<const RowMatD> bm(small_.data(), b, b);
  const RowMatD xd = xm.cast<double>();
  const RowMatD product = transpose ? RowMatD(xd.lazyProduct(bm)) : RowMatD(xd.lazyProduct(bm.transpose()));
  xm = product.cast<float>();
}

void RandomizedHadamard::apply_small_factor_float(float* x, bool transpose) const {
  if (b_ == 1) return;
  // apply_small_factor's product in float, for activations: the transform's main cost (Paley's
  // 72 for 576 = 8·72 is 72 multiply-adds per entry, an eighth of a 576-wide layer's own, paid
  // by every layer that reads the entry); summed in double with Eigen's lazy product it took
  // 17% of a 2-bit SmolLM2's evaluation. Row k of `coef` holds input k's coefficient for every
  // output (row k of Bᵀ for X·Bᵀ, of B for X·B); every output is summed input by input.
  thread_local std::vector<float> buffer;
  if (b_ >= a_) {
    // Long rows: each row's outputs in register-sized chunks of the padded coefficient rows.
    const float* coef = transpose ? small_pad_.data() : small_t_pad_.data();
    const size_t stride = padded_b();
    buffer.resize(stride);
    for (size_t i = 0; i < a_; ++i) {
      float* row = x + i * b_;
      size_t j0 = 0;
      for (; j0 + 64 <= stride; j0 += 64) output_chunk<4>(row, coef, stride, j0, buffer.data());
      for (; j0 < stride; j0 += 16) output_chunk<1>(row, coef, stride, j0, buffer.data());
      std::copy_n(buffer.data(), b_, row);
    }
    return;
  }
  // Many short rows: X transposed, so that one output column of all a rows is a vector loop.
  const float* coef = transpose ? small_f_.data() : small_t_.data();
  buffer.resize(2 * n_);
  float* __restrict__ xt = buffer.data();
  float* __restrict__ out = xt + n_;
  for (size_t i = 0; i < a_; ++i)
    for (size_t k = 0; k < b_; ++k) xt[k * a_ + i] = x[i * b_ + k];
  std::fill(out, out + n_, 0.0f);
  for (size_t j = 0; j < b_; ++j)
    for (size_t k = 0; k < b_; ++k) {
      const float c = coef[k * b_ + j];
      const float* __restrict__ xk = xt + k * a_;
      float* __restrict__ oj = out + j * a_;
      for (size_t i = 0; i < a_; ++i) oj[i] += c * xk[i];
    }
  for (size_t i = 0; i < a_; ++i)
    for (size_t j = 0; j < b_; ++j) x[i * b_ + j] = out[j * a_ + i];
}

void RandomizedHadamard::apply_power_of_two(float* x) const {
  if (a_ == 1) return;
  // H_a acts on the rows of the a×b view X (b contiguous entries each).
  fwht_rows(x, a_, b_);
  const float norm = 1.0f / std::sqrt(static_cast<float>(a_));
  for (size_t i = 0; i < n_; ++i) x[i] *= norm;
}

void RandomizedHadamard::apply(float* x) const {
  for (size_t i = 0; i < n_; ++i) x[i] *= signs_[i];
  apply_small_factor(x, false);
  apply_power_of_two(x);
}

void RandomizedHadamard::apply_transpose(float* x) const {
  // Qᵀ = D·(H ⊗ Bᵀ)/√a: H is symmetric and the two Kronecker factors commute.
  apply_power_of_two(x);
  apply_small_factor(x, true);
  for (size_t i = 0; i < n_; ++i) x[i] *= signs_[i];
}

void RandomizedHadamard::apply_float(float* x) const {
  for (size_t i = 0; i < n_; ++i) x[i] *= signs_[i];
  apply_small_factor_float(x, false);
  apply_power_of_two(x);
}

void RandomizedHadamard::apply_transpose_float(float* x) const {
  apply_power_of_two(x);
  apply_small_factor_float(x, true);
  for (size_t i = 0; i < n_; ++i) x[i] *= signs_[i];
}

}  // namespace llvq
