# The rule of docs/kernels.md "Run-time dispatch", checked over the compiled objects: a
# *_avx2 / *_avx512 object defines no weak symbol (an inline function or template compiled for
# that level) outside its own ISA namespace, because the linker may keep that copy for every
# caller, on any CPU. Symbols are read mangled (no brackets or semicolons to upset CMake lists);
# namespaces avx2 / avx512 mangle as 4avx2 / 6avx512.
#   cmake -DOBJECTS="a.o|b.o|..." -DNM=/path/to/nm -P check_isa_objects.cmake
string(REPLACE "|" ";" objects "${OBJECTS}")
set(checked 0)
set(bad "")
foreach(object IN LISTS objects)
  if(NOT object MATCHES "_avx(2|512)\\.cpp\\.o(bj)?$")
    continue()
  endif()
  math(EXPR checked "${checked} + 1")
  execute_process(COMMAND ${NM} ${object} OUTPUT_VARIABLE symbols RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NM} failed on ${object}")
  endif()
  string(REGEX MATCHALL "[^\n]* [WV] [^\n]*" weak "${symbols}")
  foreach(line IN LISTS weak)
    if(NOT line MATCHES "4avx2|6avx512|__gxx_personality")
      string(APPEND bad "\n  ${object}: ${line}")
    endif()
  endforeach()
endforeach()
if(checked EQUAL 0)
  message(FATAL_ERROR "no *_avx2 / *_avx512 objects among OBJECTS")
endif()
if(bad)
  message(FATAL_ERROR "weak symbols in ISA objects (inline code shared across levels):${bad}")
endif()
message(STATUS "${checked} ISA objects define no weak symbol outside their ISA namespace")
