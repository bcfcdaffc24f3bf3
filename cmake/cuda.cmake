# CUDA support: not yet enabled (the CUDA kernels land with cmake/cuda.cmake's full version).
