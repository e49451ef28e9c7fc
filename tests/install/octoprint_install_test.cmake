# Run by CTest (issue #16): the path docs/octoprint.md step 1 takes. A fresh
# build tree with the default options builds only prusaconnect-octoprint;
# `cmake --install` then installs what was built (the library, the daemon,
# its unit, config and docs) and skips what was not (emulator, virtual
# printer, Python package) instead of failing. The installed daemon runs
# without LD_LIBRARY_PATH, the installed unit passes `systemd-analyze verify`
# and points at the installed program and docs; `--component octoprint` and
# `--component runtime` install just their parts.
#   cmake -DSOURCE_DIR=... -DWORK_DIR=... -DGENERATOR=... -P octoprint_install_test.cmake
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(build "${WORK_DIR}/build")

include("${CMAKE_CURRENT_LIST_DIR}/run.cmake")

function(expect_exists path)
  if(NOT EXISTS "${path}")
    message(FATAL_ERROR "expected ${path} to be installed")
  endif()
endfunction()

function(expect_missing path)
  if(EXISTS "${path}")
    message(FATAL_ERROR "${path} was installed although it was not built or asked for")
  endif()
endfunction()

# No optimisation and no tests or benchmarks: this checks the install rules,
# and the build is what the test costs.
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${build}" -G "${GENERATOR}"
    -DCMAKE_BUILD_TYPE= "-DCMAKE_CXX_FLAGS=-O0" -DPRUSACONNECT_BUILD_TESTS=OFF
    -DPRUSACONNECT_BUILD_BENCH=OFF -DPRUSACONNECT_HOT_LAYOUT=OFF
    -DPython3_EXECUTABLE=/usr/bin/python3)
run(${CMAKE_COMMAND} --build "${build}" --target prusaconnect-octoprint)

# 1. Everything that was built.
set(prefix "${WORK_DIR}/prefix")
run(${CMAKE_COMMAND} --install "${build}" --prefix "${prefix}")
expect_exists("${prefix}/bin/prusaconnect-octoprint")
expect_exists("${prefix}/lib/libprusaconnect.so")
expect_exists("${prefix}/share/libprusaconnect/octoprint/prusaconnect-octoprint.conf")
expect_exists("${prefix}/share/doc/libprusaconnect/octoprint.md")
expect_missing("${prefix}/bin/prusaconnect-emulator")
expect_missing("${prefix}/bin/prusaconnect-virtual-printer")
expect_missing("${prefix}/bin/prusaconnect-bridge")
expect_missing("${prefix}/share/libprusaconnect/bridge/prusaconnect-bridge.service")
expect_missing("${prefix}/share/doc/libprusaconnect/bridge.md")
file(GLOB_RECURSE python_files "${prefix}/*/prusaconnect/__init__.py")
if(python_files)
  message(FATAL_ERROR "a Python package was installed without its module: ${python_files}")
endif()

# The installed daemon finds the installed library by itself.
execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=LD_LIBRARY_PATH
                        "${prefix}/bin/prusaconnect-octoprint" --help
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "--printer-wait-ms")
  message(FATAL_ERROR "installed prusaconnect-octoprint --help failed (${rc}):\n${out}\n${err}")
endif()

# The unit: verified by systemd, naming what is installed.
set(unit "${prefix}/share/libprusaconnect/octoprint/prusaconnect-octoprint.service")
expect_exists("${unit}")
find_program(SYSTEMD_ANALYZE systemd-analyze REQUIRED)
run(${SYSTEMD_ANALYZE} verify "${unit}")
file(READ "${unit}" text)
string(REGEX MATCH "ExecStart=([^ \n]+)" _ "${text}")
if(NOT CMAKE_MATCH_1 STREQUAL "${prefix}/bin/prusaconnect-octoprint")
  message(FATAL_ERROR "ExecStart= is ${CMAKE_MATCH_1}, not the installed program")
endif()
string(REGEX MATCH "Documentation=file://([^ \n]+)" _ "${text}")
if(NOT CMAKE_MATCH_1 OR NOT EXISTS "${CMAKE_MATCH_1}")
  message(FATAL_ERROR "Documentation= names ${CMAKE_MATCH_1}, which is not installed")
endif()

# 2. One component at a time.
set(only "${WORK_DIR}/octoprint-only")
run(${CMAKE_COMMAND} --install "${build}" --prefix "${only}" --component octoprint)
expect_exists("${only}/bin/prusaconnect-octoprint")
expect_exists("${only}/share/doc/libprusaconnect/octoprint.md")
expect_missing("${only}/lib/libprusaconnect.so")
expect_missing("${only}/include/prusaconnect/printer.h")
run(${CMAKE_COMMAND} --install "${build}" --prefix "${only}" --component runtime)
file(GLOB runtime_libs "${only}/lib/libprusaconnect.so.*")
if(NOT runtime_libs)
  message(FATAL_ERROR "--component runtime installed no libprusaconnect.so.N")
endif()
expect_missing("${only}/lib/libprusaconnect.so")  # the dev symlink is `development`
run("${only}/bin/prusaconnect-octoprint" --help)
message(STATUS "daemon-only build installs: ok")

# 3. The bridge (docs/bridge.md): built on its own, its component installs
# the program, a unit systemd accepts, the example config and the docs; the
# example config passes the bridge's own check.
run(${CMAKE_COMMAND} --build "${build}" --target prusaconnect-bridge)
set(bridge "${WORK_DIR}/bridge-only")
run(${CMAKE_COMMAND} --install "${build}" --prefix "${bridge}" --component bridge)
expect_exists("${bridge}/bin/prusaconnect-bridge")
expect_exists("${bridge}/share/doc/libprusaconnect/bridge.md")
expect_exists("${bridge}/share/doc/libprusaconnect/moonraker.md")
set(unit "${bridge}/share/libprusaconnect/bridge/prusaconnect-bridge.service")
expect_exists("${unit}")
run(${SYSTEMD_ANALYZE} verify "${unit}")
file(READ "${unit}" text)
string(REGEX MATCH "ExecStart=([^ \n]+)" _ "${text}")
if(NOT CMAKE_MATCH_1 STREQUAL "${bridge}/bin/prusaconnect-bridge")
  message(FATAL_ERROR "the bridge's ExecStart= is ${CMAKE_MATCH_1}, not the installed program")
endif()
run(${CMAKE_COMMAND} --install "${build}" --prefix "${bridge}" --component runtime)
execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=LD_LIBRARY_PATH
                        "${bridge}/bin/prusaconnect-bridge" --check --config
                        "${bridge}/share/libprusaconnect/bridge/prusaconnect-bridge.toml"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "0 printer")
  message(FATAL_ERROR "the installed example config fails --check (${rc}):\n${out}\n${err}")
endif()
