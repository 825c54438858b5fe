# The one-way dependencies between nabla's targets, checked on the sources themselves:
#
#   core  <-  data, plot, distributed  <-  train  <-  app (tools/nabla)
#
# A file of a target may include headers of its own target and of the targets it lists below;
# anything else (core including a train header, distributed including trainer.h, ...) is a
# FATAL_ERROR that names the file and the header. So is a public header (include/nabla/) that
# includes a private dependency's (nlohmann/json, cairo, zlib, MPI): a user of the component
# would then need it too; and a string in the library that names a command-line flag ("--lr"):
# the library names option fields, and only the application (tools/nabla/) knows the flags.
# It also fails on a source file (.cpp or .h under src include tools tests examples bench fuzz)
# of more than 600 lines, naming each with its count: split such a file by what it holds.
# Run at configure time by the top CMakeLists.txt and as the ctest `layering`
# (cmake -DSOURCE_DIR=<repo> -P check_layers.cmake).

if(CMAKE_SCRIPT_MODE_FILE)
  cmake_minimum_required(VERSION 3.25)  # IN_LIST, when run with cmake -P
endif()

set(NABLA_LAYERS_core core)
set(NABLA_LAYERS_data core data)
set(NABLA_LAYERS_plot core plot)
set(NABLA_LAYERS_distributed core distributed)
set(NABLA_LAYERS_train core data plot distributed train)
set(NABLA_LAYERS_onnx core onnx)

# The target that owns the file (or the quoted include) `path`, in `out`; a relative include
# that names no target's folder is core's (its internal headers sit at the root of src/core).
function(nabla_layer_of path out)
  if(path MATCHES "^(include/)?nabla/data/|^src/data/|^data/")
    set(layer data)
  elseif(path MATCHES "^(include/)?nabla/train/|^src/train/|^train/")
    set(layer train)
  elseif(path MATCHES "^(include/)?nabla/distributed\\.h$|^src/distributed/|^distributed/")
    set(layer distributed)
  elseif(path MATCHES "^(include/)?nabla/io/(plot|image)\\.h$|^src/plot/|^plot/")
    set(layer plot)
  elseif(path MATCHES "^(include/)?nabla/onnx\\.h$|^src/onnx/|^onnx/|^onnx\\.pb\\.h$")
    set(layer onnx)
  elseif(path MATCHES "^tools/|^app/|^commands\\.h$")
    set(layer app)
  else()
    set(layer core)
  endif()
  set(${out} ${layer} PARENT_SCOPE)
endfunction()

function(nabla_check_layers source_dir)
  file(GLOB_RECURSE files RELATIVE "${source_dir}"
    "${source_dir}/src/*.cpp" "${source_dir}/src/*.h" "${source_dir}/include/nabla/*.h")
  set(errors "")
  foreach(file IN LISTS files)
    nabla_layer_of("${file}" layer)
    file(STRINGS "${source_dir}/${file}" includes REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
    foreach(line IN LISTS includes)
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\".*" "\\1" header "${line}")
      nabla_layer_of("${header}" to)
      if(NOT to IN_LIST NABLA_LAYERS_${layer})
        string(APPEND errors "\n  ${file} (${layer}) includes \"${header}\" (${to})")
      endif()
    endforeach()
    file(STRINGS "${source_dir}/${file}" flags REGEX "\"--[a-z]")
    foreach(line IN LISTS flags)
      string(STRIP "${line}" line)
      string(APPEND errors "\n  ${file} (${layer}) names a command-line flag: ${line}")
    endforeach()
    if(file MATCHES "^include/")
      file(STRINGS "${source_dir}/${file}" private REGEX
        "^[ \t]*#[ \t]*include[ \t]*<(nlohmann/|cairo|zlib|mpi|google/protobuf)")
      foreach(line IN LISTS private)
        string(APPEND errors "\n  ${file} (public) includes a private dependency: ${line}")
      endforeach()
    endif()
  endforeach()
  if(errors)
    message(FATAL_ERROR "nabla's layers: a lower target includes a higher target's header "
      "(core < data, plot, distributed < train < app), or a public header a private "
      "dependency's:${errors}")
  endif()
  nabla_check_file_sizes("${source_dir}")
endfunction()

# The longest a source file may be (docs/architecture.md, "Layers and targets").
set(NABLA_MAX_SOURCE_LINES 600)

function(nabla_check_file_sizes source_dir)
  set(globs "")
  foreach(dir IN ITEMS src include tools tests examples bench fuzz)
    list(APPEND globs "${source_dir}/${dir}/*.cpp" "${source_dir}/${dir}/*.h")
  endforeach()
  file(GLOB_RECURSE files RELATIVE "${source_dir}" ${globs})
  set(errors "")
  foreach(file IN LISTS files)
    file(READ "${source_dir}/${file}" text)
    # Keep only the newlines: their count is the line count (wc -l).
    string(REGEX REPLACE "[^\n]" "" newlines "${text}")
    string(LENGTH "${newlines}" lines)
    if(lines GREATER NABLA_MAX_SOURCE_LINES)
      string(APPEND errors "\n  ${file}: ${lines} lines")
    endif()
  endforeach()
  if(errors)
    message(FATAL_ERROR "nabla's sources: no file may be over ${NABLA_MAX_SOURCE_LINES} lines; "
      "split these by what they hold:${errors}")
  endif()
endfunction()

if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  nabla_check_layers("${SOURCE_DIR}")
endif()
