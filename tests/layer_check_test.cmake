# Runs cmake/CheckLayers.cmake on tests/data/layers, whose files break each
# rule once, and checks that it fails naming each of them — and that the
# allowed includes next to them are not reported.
#   cmake -DSOURCE_ROOT=<repo> -DWORK_DIR=<dir> -P layer_check_test.cmake
set(data ${SOURCE_ROOT}/tests/data/layers)
file(MAKE_DIRECTORY ${WORK_DIR})
file(WRITE ${WORK_DIR}/layers.txt
  "util||0|\n"
  "protocol|util|0|protocol/json.cc\n"
  "transport|protocol,util|1|\n"
  "files|protocol,util|0|files/curl.cc\n"
  "camera|transport,protocol,util|1|camera/bad.cc\n")
execute_process(
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${data} -DLAYERS_FILE=${WORK_DIR}/layers.txt
          -P ${SOURCE_ROOT}/cmake/CheckLayers.cmake
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(text "${out}${err}")
if(rc EQUAL 0)
  message(FATAL_ERROR "CheckLayers passed a tree with forbidden includes:\n${text}")
endif()
foreach(expected
    "src/camera/bad.cc: #include files/paths.h: layer 'camera' does not use layer 'files'"
    "src/files/curl.cc: #include curl/curl.h: libcurl is included only by the transport layer"
    "src/protocol/json.cc: #include rapidjson/document.h: rapidjson is util's")
  string(FIND "${text}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "missing from the report: ${expected}\n--- report:\n${text}")
  endif()
endforeach()
foreach(allowed "transport/fetch.h" "util/posix.h" "camera/fine.h" "prusaconnect/json.h")
  string(FIND "${text}" "${allowed}" at)
  if(NOT at EQUAL -1)
    message(FATAL_ERROR "an allowed include was reported: ${allowed}\n${text}")
  endif()
endforeach()
message(STATUS "CheckLayers refuses the three forbidden includes and nothing else")
