# Helpers that give each architectural layer its own target (docs/architecture.md §2).
# A layer's include root is the repository's src/ (or sim/) folder, but a target only sees the
# headers of the layers it links: an include in the wrong direction fails to link or compile,
# because each layer's headers are exposed only through its own target's include path.

# reliant_layer(NAME FOLDER SOURCES... [DEPS targets...])
function(reliant_layer name folder)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  if(ARG_SOURCES)
    add_library(${name} STATIC ${ARG_SOURCES})
    target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE reliant_warnings)
    target_include_directories(${name} PUBLIC ${CMAKE_BINARY_DIR}/include_roots/${name})
  else()
    add_library(${name} INTERFACE)
    target_link_libraries(${name} INTERFACE ${ARG_DEPS})
    target_include_directories(${name} INTERFACE ${CMAKE_BINARY_DIR}/include_roots/${name})
  endif()
  # Each layer gets a private include root holding a single symlink to its own folder, so
  # `#include "runtime/bus.h"` resolves only for targets that link `runtime`.
  get_filename_component(leaf ${folder} NAME)
  get_filename_component(parent ${folder} DIRECTORY)
  get_filename_component(parent_leaf ${parent} NAME)
  if(parent_leaf STREQUAL "adapters")
    set(link_dir ${CMAKE_BINARY_DIR}/include_roots/${name}/adapters)
  else()
    set(link_dir ${CMAKE_BINARY_DIR}/include_roots/${name})
  endif()
  file(MAKE_DIRECTORY ${link_dir})
  file(CREATE_LINK ${folder} ${link_dir}/${leaf} SYMBOLIC)
endfunction()
