# ctest examples_inference, run with cmake -P:
#   -DNABLA=<the nabla CLI>  -DINFERENCE=<example_inference>  -DDATA_DIR=<Fashion-MNIST>
#   -DWORK_DIR=<scratch>
# Trains a small run with `nabla train`, draws a 28x28 PGM, and checks that example_inference
# predicts the class and probability that `nabla predict` prints for the same image, from the run
# directory and from a copy of its model file.
foreach(var NABLA INFERENCE DATA_DIR WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "inference_test.cmake: -D${var}=... is required")
  endif()
endforeach()
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "examples_inference: ${what} failed (${rc}):\n${out}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

run("nabla train" "${NABLA}" train --model mlp --dataset fashion-mnist --data-dir "${DATA_DIR}"
    --epochs 1 --train-subset 600 --test-subset 100 --threads 1 --out "${WORK_DIR}/run")

# A plain-text (P2) PGM: a light vertical bar on black, about a trouser's outline.
set(pgm "P2\n28 28\n255\n")
foreach(y RANGE 27)
  foreach(x RANGE 27)
    if(x GREATER 8 AND x LESS 19 AND y GREATER 1 AND y LESS 26)
      string(APPEND pgm "200 ")
    else()
      string(APPEND pgm "0 ")
    endif()
  endforeach()
  string(APPEND pgm "\n")
endforeach()
file(WRITE "${WORK_DIR}/image.pgm" "${pgm}")

run("example_inference" "${INFERENCE}" "${WORK_DIR}/run" "${WORK_DIR}/image.pgm")
string(REGEX MATCH "image.pgm: ([^\n]+) \\(([0-9.]+)%\\)" found "${out}")
if(NOT found)
  message(FATAL_ERROR "examples_inference: no prediction in:\n${out}")
endif()
set(example_class "${CMAKE_MATCH_1}")
set(example_percent "${CMAKE_MATCH_2}")
# The model file alone, copied away from its run, gives the same answer.
file(COPY_FILE "${WORK_DIR}/run/best/model.safetensors" "${WORK_DIR}/copy.safetensors")
run("example_inference on a copy" "${INFERENCE}" "${WORK_DIR}/copy.safetensors"
    "${WORK_DIR}/image.pgm")
if(NOT out MATCHES "image.pgm: ${example_class} \\(${example_percent}%\\)")
  message(FATAL_ERROR "examples_inference: on the copied model file:\n${out}")
endif()
run("nabla predict" "${NABLA}" predict "${WORK_DIR}/run" "${WORK_DIR}/image.pgm")
string(REGEX MATCH "predicted: ([^\n]+) \\(([0-9.]+)%\\)" found "${out}")
if(NOT found OR NOT CMAKE_MATCH_1 STREQUAL example_class OR
   NOT CMAKE_MATCH_2 STREQUAL example_percent)
  message(FATAL_ERROR "examples_inference: the example predicted ${example_class} "
    "(${example_percent}%), nabla predict:\n${out}")
endif()
message(STATUS "example_inference and nabla predict agree: ${example_class} (${example_percent}%)")
