# clang-tidy (config: .clang-tidy, warnings are errors) and cppcheck over the
# library's own sources: src/*.cc and the protocol, transport, util and files
# folders (the emulator is test tooling and is checked by its own tests).
file(GLOB sources ${SOURCE_DIR}/src/*.cc ${SOURCE_DIR}/src/protocol/*.cc
     ${SOURCE_DIR}/src/transport/*.cc ${SOURCE_DIR}/src/util/*.cc ${SOURCE_DIR}/src/files/*.cc
     ${SOURCE_DIR}/src/transfer/*.cc)
execute_process(COMMAND ${CLANG_TIDY} -p ${BUILD_DIR} --quiet ${sources}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "clang-tidy findings:\n${out}")
endif()
execute_process(COMMAND ${CPPCHECK} --enable=warning,performance,portability --std=c++17
                  --inline-suppr --quiet --error-exitcode=1 -I ${SOURCE_DIR}/include
                  -I ${SOURCE_DIR}/src --suppress=missingIncludeSystem ${sources}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cppcheck findings:\n${out}${err}")
endif()
