# The layering rule (docs/architecture.md): util → lattice → codec → kernels → model → quant →
# eval → CLI. A file of a layer may include the public headers and the private headers of its
# own layer and the public headers of the layers below it — never a higher layer's header
# and never another layer's private one (src/<layer>/...).
# The benchmarks' measurements (bench/, the target llvq_bench) are no part of the library: their
# files may include what a kernels file may, and their headers (llvq_bench/...) only the CLI.
#   cmake -DSOURCE_DIR=<repo> -P cmake/check_layers.cmake
# Exits with an error listing every violation; a public header missing from the table below is
# one too, so a new header has to be placed in a layer.
cmake_minimum_required(VERSION 3.25)

set(LAYERS util lattice codec kernels model quant eval tools)
set(HEADERS_util error report output_file half bitstream cpu parallel)
set(HEADERS_lattice golay leech leech_ball leech_ball_index leech_shells voronoi_code)
set(HEADERS_codec codec codec_container l24sq kernel_layout)
set(HEADERS_kernels kernels cuda_kernels)
set(HEADERS_model model model_io gguf safetensors tokenizer llama chat)
set(HEADERS_quant quantize quantized_model quantize_run model_tools calibration gptq hadamard glvq rd)
set(HEADERS_eval eval compare)
set(HEADERS_tools)

foreach(layer IN LISTS LAYERS)
  list(FIND LAYERS ${layer} rank)
  foreach(h IN LISTS HEADERS_${layer})
    set(RANK_OF_llvq/${h}.hpp ${rank})
  endforeach()
endforeach()

set(violations "")
file(GLOB public_headers RELATIVE ${SOURCE_DIR}/include ${SOURCE_DIR}/include/llvq/*.hpp)
foreach(h IN LISTS public_headers)
  if(NOT DEFINED RANK_OF_${h})
    string(APPEND violations "  include/${h}: not assigned to a layer in cmake/check_layers.cmake\n")
  endif()
endforeach()

# The layer of a file: src/<layer>/..., tools/... (the CLI), bench/... (builds on the kernels
# layer), or the layer its public header is assigned to.
set(BENCH_LAYER kernels)
function(layer_of path out_rank out_layer)
  if(path MATCHES "^src/([a-z]+)/")
    set(layer ${CMAKE_MATCH_1})
  elseif(path MATCHES "^bench/")
    set(layer ${BENCH_LAYER})
  elseif(path MATCHES "^tools/")
    set(layer tools)
  elseif(path MATCHES "^include/(llvq/.*)$")
    set(header ${CMAKE_MATCH_1})
    set(layer "")
    if(DEFINED RANK_OF_${header})
      list(GET LAYERS ${RANK_OF_${header}} layer)
    endif()
  else()
    set(layer "")
  endif()
  list(FIND LAYERS "${layer}" rank)
  set(${out_rank} ${rank} PARENT_SCOPE)
  set(${out_layer} "${layer}" PARENT_SCOPE)
endfunction()

file(GLOB_RECURSE files RELATIVE ${SOURCE_DIR}
  ${SOURCE_DIR}/src/*.cpp ${SOURCE_DIR}/src/*.hpp ${SOURCE_DIR}/src/*.cu ${SOURCE_DIR}/src/*.cuh
  ${SOURCE_DIR}/include/llvq/*.hpp ${SOURCE_DIR}/tools/*.cpp ${SOURCE_DIR}/tools/*.hpp
  ${SOURCE_DIR}/bench/*.cpp ${SOURCE_DIR}/bench/*.hpp ${SOURCE_DIR}/bench/*.cu)
foreach(f IN LISTS files)
  layer_of(${f} rank layer)
  if(rank LESS 0)
    string(APPEND violations "  ${f}: not in a known layer\n")
    continue()
  endif()
  file(STRINGS ${SOURCE_DIR}/${f} includes REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  foreach(line IN LISTS includes)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\".*$" "\\1" inc "${line}")
    if(inc MATCHES "^llvq_bench/")
      if(NOT f MATCHES "^(bench|tools)/")
        string(APPEND violations "  ${f} (${layer}): includes ${inc}, a header of the benchmarks, which only the CLI includes\n")
      endif()
    elseif(inc MATCHES "^llvq/")
      if(NOT DEFINED RANK_OF_${inc})
        string(APPEND violations "  ${f}: includes ${inc}, which is no public header\n")
      elseif(RANK_OF_${inc} GREATER rank)
        list(GET LAYERS ${RANK_OF_${inc}} target)
        string(APPEND violations "  ${f} (${layer}): includes ${inc} of the higher layer ${target}\n")
      endif()
    elseif(inc MATCHES "^([a-z]+)/" AND CMAKE_MATCH_1 IN_LIST LAYERS)
      if(NOT CMAKE_MATCH_1 STREQUAL layer)
        string(APPEND violations "  ${f} (${layer}): includes ${inc}, a private header of ${CMAKE_MATCH_1}\n")
      endif()
    endif()
  endforeach()
endforeach()

if(violations)
  message(FATAL_ERROR "Layering violations:\n${violations}")
endif()
list(LENGTH files n)
message(STATUS "check_layers: ${n} files, every include points down the layers")
