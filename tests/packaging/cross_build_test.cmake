# Run by CTest (issue #24): the library cross-builds for 64-bit Arm
# (Raspberry Pi OS arm64) with Debian's cross toolchain and :arm64
# development packages (scripts/bootstrap installs them), and an outside
# consumer links against it. -O0, library only: this checks the build, not
# the code (the suite runs on the host).
#   cmake -DSOURCE_DIR=... -DWORK_DIR=... -DGENERATOR=... -P cross_build_test.cmake
include("${CMAKE_CURRENT_LIST_DIR}/../install/run.cmake")
find_program(CROSS_CXX aarch64-linux-gnu-g++)
if(NOT CROSS_CXX)
  message(FATAL_ERROR "aarch64-linux-gnu-g++ not found: run scripts/bootstrap")
endif()
file(REMOVE_RECURSE "${WORK_DIR}")
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${WORK_DIR}/build" -G "${GENERATOR}"
    "-DCMAKE_TOOLCHAIN_FILE=${SOURCE_DIR}/cmake/toolchain-aarch64-linux-gnu.cmake"
    -DCMAKE_BUILD_TYPE= -DCMAKE_CXX_FLAGS=-O0 -DPRUSACONNECT_BUILD_PYTHON=OFF
    -DPRUSACONNECT_BUILD_TESTS=OFF -DPRUSACONNECT_BUILD_BENCH=OFF
    -DPRUSACONNECT_BUILD_EXAMPLES=OFF -DPRUSACONNECT_BUILD_EMULATOR=OFF
    -DPRUSACONNECT_HOT_LAYOUT=OFF)
run(${CMAKE_COMMAND} --build "${WORK_DIR}/build")
run(${CMAKE_COMMAND} --install "${WORK_DIR}/build" --prefix "${WORK_DIR}/prefix")
file(GLOB lib "${WORK_DIR}/prefix/lib/libprusaconnect.so.*.*.*")
run(readelf -h ${lib})
if(NOT last_output MATCHES "Machine:[ \t]+AArch64")
  message(FATAL_ERROR "${lib} is not an AArch64 library:\n${last_output}")
endif()
# An outside program links against it (every symbol it needs is there and
# exported for arm64 too).
run(${CROSS_CXX} -std=c++17 "${SOURCE_DIR}/tests/install/consumer/consumer.cc"
    -I "${WORK_DIR}/prefix/include" -L "${WORK_DIR}/prefix/lib" -lprusaconnect
    -o "${WORK_DIR}/consumer")
run(readelf -h "${WORK_DIR}/consumer")
if(NOT last_output MATCHES "Machine:[ \t]+AArch64")
  message(FATAL_ERROR "the consumer is not AArch64")
endif()
message(STATUS "arm64 cross build: ${lib}")
