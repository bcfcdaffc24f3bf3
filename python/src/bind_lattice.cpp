// llvq._core: the Leech lattice ball Λ24(M) — exact search, rank and unrank over batches.
#include <cmath>

#include "bindings.hpp"
#include "common.hpp"
#include "llvq/error.hpp"
#include "llvq/leech_ball.hpp"

namespace llvq::py {
namespace {

using leech::kDim;

const LeechBall& ball_of(int max_shell) {
  if (max_shell < LeechBall::kMinShell || max_shell > LeechBall::kMaxShell)
    throw InputError("max_shell must be in " + std::to_string(LeechBall::kMinShell) + ".." +
                     std::to_string(LeechBall::kMaxShell) + ", got " + std::to_string(max_shell));
  return LeechBall::get(max_shell);
}

View<float> blocks_of(const AnyArray& x) {
  View<float> v = view<float>(x, "x", 2);
  if (v.shape[1] != kDim) throw InputError("x: expected shape (n, 24), got (" + std::to_string(v.shape[0]) + ", " +
                                           std::to_string(v.shape[1]) + ")");
  require_finite(v, "x");
  return v;
}

nb::tuple search(const AnyArray& x, int max_shell, const std::string& metric, double scale) {
  const View<float> v = blocks_of(x);
  const bool angular = metric == "angular";
  if (!angular && metric != "euclidean") throw InputError("metric must be 'angular' or 'euclidean', got '" + metric + "'");
  if (!angular && !(std::isfinite(scale) && scale > 0)) throw InputError("scale must be finite and positive");
  const LeechBall& ball = ball_of(max_shell);
  const int64_t n = v.shape[0];
  std::vector<uint64_t> index(static_cast<size_t>(n));
  std::vector<int32_t> points(static_cast<size_t>(n) * kDim);
  std::vector<double> score(static_cast<size_t>(n));
  {
    nb::gil_scoped_release release;
    // Independent blocks; LeechBall's const methods are thread-safe and, with the input
    // checked above, do not throw.
#pragma omp parallel for schedule(dynamic, 16)
    for (int64_t i = 0; i < n; ++i) {
      const float* xi = v.data + i * kDim;
      const LeechBall::Result r = angular ? ball.search_angular(xi) : ball.search_euclidean(xi, scale);
      index[static_cast<size_t>(i)] = r.index;
      score[static_cast<size_t>(i)] = r.score;
      std::copy(r.point.begin(), r.point.end(), points.begin() + i * kDim);
    }
  }
  const size_t rows = static_cast<size_t>(n);
  return nb::make_tuple(to_numpy(std::move(index), {rows}), to_numpy(std::move(points), {rows, size_t{kDim}}),
                        to_numpy(std::move(score), {rows}));
}

nb::ndarray<nb::numpy, uint64_t> rank(const AnyArray& points, int max_shell) {
  const View<int32_t> v = view<int32_t>(points, "points", 2);
  if (v.shape[1] != kDim) throw InputError("points: expected shape (n, 24)");
  const LeechBall& ball = ball_of(max_shell);
  std::vector<uint64_t> out(static_cast<size_t>(v.shape[0]));
  {
    nb::gil_scoped_release release;
    for (size_t i = 0; i < out.size(); ++i) {
      leech::Vec p;
      std::copy(v.data + i * kDim, v.data + (i + 1) * kDim, p.begin());
      try {
        out[i] = ball.rank(p);
      } catch (const InputError& e) {
        throw InputError("points[" + std::to_string(i) + "]: " + e.what());
      }
    }
  }
  return to_numpy(std::move(out), {static_cast<size_t>(v.shape[0])});
}

nb::ndarray<nb::numpy, int32_t> unrank(const AnyArray& indices, int max_shell) {
  const View<uint64_t> v = view<uint64_t>(indices, "indices", 1);
  const LeechBall& ball = ball_of(max_shell);
  const size_t n = static_cast<size_t>(v.shape[0]);
  for (size_t i = 0; i < n; ++i)
    if (v.data[i] >= ball.size())
      throw InputError("indices[" + std::to_string(i) + "] = " + std::to_string(v.data[i]) +
                       " is out of range (the ball has " + std::to_string(ball.size()) + " points)");
  std::vector<int32_t> out(n * kDim);
  {
    nb::gil_scoped_release release;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < static_cast<int64_t>(n); ++i) {
      const leech::Vec p = ball.unrank(v.data[i]);
      std::copy(p.begin(), p.end(), out.begin() + i * kDim);
    }
  }
  return to_numpy(std::move(out), {n, size_t{kDim}});
}

nb::dict ball_info(int max_shell) {
  const LeechBall& ball = ball_of(max_shell);
  nb::dict d;
  d["max_shell"] = ball.max_shell();
  d["points"] = ball.size();
  d["bits"] = ball.bits();
  nb::list offsets;
  for (int m = 0; m <= ball.max_shell() + 1; m = m == 0 ? 2 : m + 1) offsets.append(ball.shell_offset(m));
  d["shell_offsets"] = offsets;
  return d;
}

}  // namespace

void bind_lattice(nb::module_& m) {
  m.def("lattice_search", &search, nb::arg("x"), nb::arg("max_shell"), nb::arg("metric"), nb::arg("scale"));
  m.def("lattice_rank", &rank, nb::arg("points"), nb::arg("max_shell"));
  m.def("lattice_unrank", &unrank, nb::arg("indices"), nb::arg("max_shell"));
  m.def("lattice_info", &ball_info, nb::arg("max_shell"));
}

}  // namespace llvq::py
