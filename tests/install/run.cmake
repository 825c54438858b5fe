# CTest driver for the install check, run with cmake -P:
#   -DBUILD_DIR=<nabla build>  -DCONSUMER_SOURCE=<tests/install>  -DWORK_DIR=<scratch>
#   -DGENERATOR=<generator>    -DCXX_COMPILER=<compiler>
# Installs the current build into WORK_DIR/prefix, then configures, builds and runs the consumer
# project against that prefix only.
foreach(var BUILD_DIR CONSUMER_SOURCE WORK_DIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run.cmake: -D${var}=... is required")
  endif()
endforeach()

# A fresh prefix each time, so a file left by an earlier install cannot hide a missing one.
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
set(consumer_build "${WORK_DIR}/build")

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
step("configuring the consumer project" "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE}"
     -B "${consumer_build}" -G "${GENERATOR}" -DCMAKE_BUILD_TYPE=Release
     "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" "-DCMAKE_PREFIX_PATH=${prefix}"
     -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
step("building the consumer project" "${CMAKE_COMMAND}" --build "${consumer_build}")
step("running the consumer" "${consumer_build}/consumer")
