# CTest driver for the install check, run with cmake -P:
#   -DBUILD_DIR=<nabla build>  -DCONSUMER_SOURCE=<tests/install>  -DWORK_DIR=<scratch>
#   -DGENERATOR=<generator>    -DCXX_COMPILER=<compiler>  -DCORE_SOURCE=<examples/readme_example.cpp>
# Installs the current build into WORK_DIR/prefix, then configures, builds and runs the consumer
# project against that prefix only: once with every component (nabla::nabla), once with the core
# alone (the README example), whose configure must not look for zlib, cairo or MPI and whose link
# line must name none of them.
foreach(var BUILD_DIR CONSUMER_SOURCE WORK_DIR GENERATOR CXX_COMPILER CORE_SOURCE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run.cmake: -D${var}=... is required")
  endif()
endforeach()

# A fresh prefix each time, so a file left by an earlier install cannot hide a missing one.
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install test: ${what} failed (${rc})")
  endif()
endfunction()

step("cmake --install" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}")
foreach(installed include/nabla/nabla.h bin/nabla)
  if(NOT EXISTS "${prefix}/${installed}")
    message(FATAL_ERROR "install test: ${installed} is missing from the install prefix")
  endif()
endforeach()
# consumer(<name> <cmake arguments>...): configures, builds (verbosely, into ${name}_log) and runs
# the consumer project in WORK_DIR/<name>.
function(consumer name)
  set(dir "${WORK_DIR}/${name}")
  step("configuring the ${name} consumer" "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE}" -B "${dir}"
       -G "${GENERATOR}" -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
       "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF ${ARGN})
  execute_process(COMMAND "${CMAKE_COMMAND}" --build "${dir}" --verbose
                  RESULT_VARIABLE rc OUTPUT_VARIABLE log ERROR_VARIABLE log)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install test: building the ${name} consumer failed (${rc}):\n${log}")
  endif()
  set(${name}_log "${log}" PARENT_SCOPE)
  step("running the ${name} consumer" "${dir}/consumer")
endfunction()

consumer(full)
consumer(core -DNABLA_CORE_ONLY=ON "-DCORE_SOURCE=${CORE_SOURCE}")
# The core consumer's configure looked for none of the other components' dependencies ...
file(STRINGS "${WORK_DIR}/core/CMakeCache.txt" looked_for REGEX "^(ZLIB|PNG|JPEG|CAIRO|PC_|PKG_CONFIG|MPI)")
if(looked_for)
  message(FATAL_ERROR "install test: find_package(nabla COMPONENTS core) looked for other "
    "components' dependencies:\n${looked_for}")
endif()
# ... and its link line names none of them (the full consumer's does, which shows the test can
# see a library on the link line).
string(REGEX MATCH "[^\n]*-o consumer( [^\n]*)?" core_link "${core_log}")
string(REGEX MATCH "[^\n]*-o consumer( [^\n]*)?" full_link "${full_log}")
if(NOT core_link OR NOT full_link)
  message(FATAL_ERROR "install test: no link line in the build logs:\n${core_log}\n${full_log}")
endif()
foreach(library "libz[.]" "-lz( |$)" "cairo" "mpi" "nabla_(data|plot|train|distributed)")
  if(core_link MATCHES "${library}")
    message(FATAL_ERROR "install test: the core consumer links ${library}:\n${core_link}")
  endif()
endforeach()
if(NOT full_link MATCHES "cairo" OR NOT full_link MATCHES "nabla_train")
  message(FATAL_ERROR "install test: the full consumer does not link cairo and nabla_train:\n"
    "${full_link}")
endif()
