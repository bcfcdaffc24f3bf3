# CUDA kernels (docs/kernels-cuda.md): src/kernels/cuda/*.cu join the library `llvq` when nvcc
# is found; otherwise src/kernels/cuda_stub.cpp provides the entry points, which report that
# this build has no CUDA. Included by the top-level CMakeLists.txt after `llvq` is defined.
option(LLVQ_CUDA "Build the CUDA kernels when a CUDA compiler is found" ON)

set(LLVQ_HAVE_CUDA OFF)
if(LLVQ_CUDA AND LLVQ_SANITIZE)
  # AddressSanitizer reserves the address ranges the CUDA runtime maps device memory into, so
  # a sanitized binary cannot initialise the driver; the CUDA kernels are left out instead.
  message(STATUS "LLVQ: CUDA kernels skipped because LLVQ_SANITIZE is ON (ASan and the CUDA runtime do not mix)")
elseif(LLVQ_CUDA)
  # nvcc hands host code to a host compiler; use the project's own so both sides agree on the
  # standard library and ABI. Must be set before the language is enabled.
  if(NOT DEFINED CMAKE_CUDA_HOST_COMPILER)
    set(CMAKE_CUDA_HOST_COMPILER ${CMAKE_CXX_COMPILER})
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    # H100 / H200 by default; override with -DCMAKE_CUDA_ARCHITECTURES=... ("90" emits sm_90 code
    # plus compute_90 PTX, which newer GPUs compile at load time).
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 90)
    endif()
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(LLVQ_HAVE_CUDA ON)
  else()
    message(STATUS "LLVQ: no CUDA compiler found; the CUDA kernels are not built")
  endif()
else()
  message(STATUS "LLVQ: CUDA kernels off (LLVQ_CUDA=OFF)")
endif()

# Readies `target` for .cu sources. The options added with add_compile_options() above (-Wall,
# -O3, -march=native, ...) are host-compiler options: nvcc rejects most of them. Restrict them
# to C++ sources and give the .cu files the warnings through -Xcompiler (host side only; the
# device side never sees -march=native).
function(llvq_cuda_target target)
  get_target_property(options ${target} COMPILE_OPTIONS)
  set(cxx_only)
  foreach(opt IN LISTS options)
    list(APPEND cxx_only "$<$<COMPILE_LANGUAGE:CXX>:${opt}>")
  endforeach()
  set_target_properties(${target} PROPERTIES COMPILE_OPTIONS "${cxx_only}")
  # The target may exist before the language was enabled, so that the CMAKE_CUDA_* defaults did
  # not reach it: set them on the target. C++17 for the .cu files: CMake 3.25 has no C++20 flags
  # for nvcc, and the headers they include need nothing newer.
  set_target_properties(${target} PROPERTIES
    CUDA_ARCHITECTURES "${CMAKE_CUDA_ARCHITECTURES}"
    CUDA_STANDARD 17
    CUDA_STANDARD_REQUIRED ON
    CUDA_EXTENSIONS OFF)
  target_compile_options(${target} PRIVATE "$<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra>")
endfunction()

if(LLVQ_HAVE_CUDA)
  llvq_cuda_target(llvq)
  file(GLOB LLVQ_CUDA_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/kernels/cuda/*.cu)
  target_sources(llvq PRIVATE ${LLVQ_CUDA_SOURCES})
  target_link_libraries(llvq PUBLIC CUDA::cudart CUDA::cublas)
  # PUBLIC: the stub compiles to nothing, and tests and the CLI know the kernels are there.
  target_compile_definitions(llvq PUBLIC LLVQ_HAVE_CUDA)
  message(STATUS "LLVQ: CUDA kernels enabled (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, architectures ${CMAKE_CUDA_ARCHITECTURES})")
endif()
