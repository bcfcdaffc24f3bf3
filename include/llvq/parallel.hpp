// A parallel loop over OpenMP that carries exceptions to its caller: an exception must not
// leave an OpenMP region (the runtime calls std::terminate), and the library reports bad
// input by throwing (InputError), so every loop whose body can throw runs through this.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>

namespace llvq {

// Runs body(i) for i in [0, count) on all cores, `grain` consecutive iterations per task
// (dynamic schedule); the first exception thrown by any iteration is rethrown on the calling
// thread once the loop has finished. A single task's worth of work runs on the calling thread.
template <class Body>
void parallel_for(size_t count, size_t grain, Body&& body) {
  std::exception_ptr error;
  const int chunk = static_cast<int>(std::max<size_t>(1, grain));
#pragma omp parallel for schedule(dynamic, chunk) if (count > static_cast<size_t>(chunk))
  for (int64_t i = 0; i < static_cast<int64_t>(count); ++i) {
    try {
      body(static_cast<size_t>(i));
    } catch (...) {
#pragma omp critical(llvq_parallel_for_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace llvq
