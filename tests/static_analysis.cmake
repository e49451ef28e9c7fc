# clang-tidy (config: .clang-tidy, warnings are errors) and cppcheck over the
# library's own sources: src/*.cc and every folder below src/ except the
# emulator (test tooling, checked by its own tests), so that a new library
# folder is covered without editing this file. The public headers
# (include/prusaconnect) are checked through the sources that include them
# (.clang-tidy HeaderFilterRegex; cppcheck -I include).
file(GLOB sources ${SOURCE_DIR}/src/*.cc ${SOURCE_DIR}/src/*/*.cc)
list(FILTER sources EXCLUDE REGEX "/src/emulator/")
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
