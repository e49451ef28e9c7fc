# Run by CTest (issue #24): ports/prusaconnect/portfile.cmake, the vcpkg
# overlay port, run as vcpkg's ports.cmake runs it, with the vcpkg functions
# it calls replaced by vcpkg_shim.cmake (their documented behaviour on Linux,
# the config and pkg-config path rewriting copied from vcpkg's own). Then the
# package must have vcpkg's layout and an outside project must build and run
# against it, as a vcpkg user's would, in Release and in Debug (the debug
# import file merged into share/prusaconnect must point at debug/lib).
#
# What this proves: the portfile's options configure, build and install the
# library twice; the CMake package still finds its files after it moves from
# lib/cmake/prusaconnect to share/prusaconnect; the .pc files survive the
# fixup; vcpkg.json parses, names our version and the feature the test
# builds, and lists a port for every package CMakeLists.txt finds. What it
# cannot: the vcpkg tool itself (dependency resolution, "supports" and
# platform expressions, its post-build checks, binary caching) and vcpkg's
# toolchain file and dependency ports (e.g. its FindJPEG/FindPNG wrappers,
# which hand the build both configurations' libraries) — the dependencies
# here are the system's. Those are checked by hand with vcpkg's real scripts
# (not in the suite: no vcpkg sources are kept here).
#
#   cmake -DSOURCE_DIR=... -DWORK_DIR=... [-DGENERATOR=Ninja]
#         [-DLINKAGE=dynamic|static] [-DPORT_FEATURES=image-codecs] -P vcpkg_port_test.cmake
# The policies vcpkg's ports.cmake runs portfiles with.
cmake_minimum_required(VERSION 3.21)
include("${CMAKE_CURRENT_LIST_DIR}/../install/run.cmake")
if(NOT GENERATOR)
  set(GENERATOR Ninja)
endif()
if(NOT LINKAGE)
  set(LINKAGE dynamic)
endif()
# vcpkg.json's default features: image-codecs except on static triplets.
if(NOT DEFINED PORT_FEATURES)
  if(LINKAGE STREQUAL "dynamic")
    set(PORT_FEATURES image-codecs)
  else()
    set(PORT_FEATURES "")
  endif()
endif()

set(port_dir "${SOURCE_DIR}/ports/prusaconnect")
file(READ "${port_dir}/vcpkg.json" manifest)
string(JSON PORT GET "${manifest}" name)
string(JSON VERSION GET "${manifest}" version)
file(STRINGS "${SOURCE_DIR}/CMakeLists.txt" project_line REGEX "^project\\(prusaconnect VERSION ")
string(REGEX MATCH "VERSION ([0-9.]+)" _ "${project_line}")
if(NOT VERSION STREQUAL CMAKE_MATCH_1)
  message(FATAL_ERROR "vcpkg.json has version ${VERSION}, CMakeLists.txt ${CMAKE_MATCH_1}")
endif()
foreach(feature IN LISTS PORT_FEATURES)
  string(JSON _ ERROR_VARIABLE missing GET "${manifest}" features ${feature})
  if(missing)
    message(FATAL_ERROR "vcpkg.json has no feature ${feature}")
  endif()
endforeach()

# Every package the top-level CMakeLists.txt finds is a dependency of the
# port, of the feature that needs it, or known not to be one: here the
# system provides them all, so a missing one would only show in vcpkg.
set(port_for_CURL curl)
set(port_for_OpenSSL openssl)
set(port_for_ZLIB zlib)
set(port_for_RapidJSON rapidjson)
set(port_for_JPEG image-codecs/libjpeg-turbo)
set(port_for_PNG image-codecs/libpng)
set(port_for_Threads "")  # the C library
set(port_for_absl "")     # tests, benchmarks and emulator only: off in the port
function(manifest_dependencies out)  # ARGN: the JSON path of a dependency list
  set(names "")
  string(JSON count ERROR_VARIABLE none LENGTH "${manifest}" ${ARGN})
  if(count GREATER 0)
    math(EXPR last "${count} - 1")
    foreach(i RANGE ${last})
      string(JSON type TYPE "${manifest}" ${ARGN} ${i})
      if(type STREQUAL "OBJECT")
        string(JSON name GET "${manifest}" ${ARGN} ${i} name)
      else()
        string(JSON name GET "${manifest}" ${ARGN} ${i})
      endif()
      list(APPEND names ${name})
    endforeach()
  endif()
  set(${out} "${names}" PARENT_SCOPE)
endfunction()
file(STRINGS "${SOURCE_DIR}/CMakeLists.txt" finds REGEX "find_package\\(")
foreach(line IN LISTS finds)
  string(REGEX MATCH "find_package\\(([A-Za-z0-9_]+)" _ "${line}")
  set(package "${CMAKE_MATCH_1}")
  if(NOT DEFINED port_for_${package})
    message(FATAL_ERROR "CMakeLists.txt finds ${package}: add its vcpkg port to "
                        "ports/prusaconnect/vcpkg.json and to this test's list")
  endif()
  set(port "${port_for_${package}}")
  if(port MATCHES "^(.+)/(.+)$")
    manifest_dependencies(deps features ${CMAKE_MATCH_1} dependencies)
    set(where "feature ${CMAKE_MATCH_1}")
    set(port "${CMAKE_MATCH_2}")
  else()
    manifest_dependencies(deps dependencies)
    set(where "dependencies")
  endif()
  if(port AND NOT port IN_LIST deps)
    message(FATAL_ERROR "ports/prusaconnect/vcpkg.json: ${port} (for ${package}) is missing "
                        "from ${where}")
  endif()
endforeach()

# What vcpkg's tool and ports.cmake set for a port build on this triplet.
set(TARGET_TRIPLET x64-linux-${LINKAGE})
set(VCPKG_LIBRARY_LINKAGE ${LINKAGE})
set(VCPKG_TARGET_IS_LINUX ON)
set(VCPKG_CONCURRENCY 2)  # the machine's other builds share its two cores
set(FEATURES core ${PORT_FEATURES})
set(CURRENT_PORT_DIR "${port_dir}")
set(CURRENT_PACKAGES_DIR "${WORK_DIR}/packages/${PORT}_${TARGET_TRIPLET}")
set(CURRENT_BUILDTREES_DIR "${WORK_DIR}/buildtrees/${PORT}")
set(CURRENT_INSTALLED_DIR "${WORK_DIR}/installed/${TARGET_TRIPLET}")
set(Z_SHIM_GENERATOR "${GENERATOR}")
# -O0 for the release build too: this checks the package, not the code, and
# halves the test's time.
set(Z_SHIM_EXTRA_OPTIONS "-DCMAKE_CXX_FLAGS_RELEASE=-O0 -DNDEBUG")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${CURRENT_PACKAGES_DIR}" "${CURRENT_BUILDTREES_DIR}" "${CURRENT_INSTALLED_DIR}")

include("${CMAKE_CURRENT_LIST_DIR}/vcpkg_shim.cmake")
include("${port_dir}/portfile.cmake")

# ---- the package's layout, as vcpkg's post-build checks want it ----
set(pkg "${CURRENT_PACKAGES_DIR}")
if(LINKAGE STREQUAL "dynamic")
  set(lib_glob "libprusaconnect.so.*.*.*")
else()
  set(lib_glob "libprusaconnect.a")
endif()
foreach(dir lib debug/lib)
  file(GLOB found "${pkg}/${dir}/${lib_glob}")
  if(NOT found)
    message(FATAL_ERROR "no ${dir}/${lib_glob} in the package")
  endif()
endforeach()
foreach(file include/prusaconnect/prusaconnect.h
             share/${PORT}/prusaconnectConfig.cmake share/${PORT}/prusaconnectConfigVersion.cmake
             share/${PORT}/prusaconnectTargets.cmake share/${PORT}/prusaconnectTargets-release.cmake
             share/${PORT}/prusaconnectTargets-debug.cmake share/${PORT}/usage share/${PORT}/copyright
             lib/pkgconfig/prusaconnect.pc debug/lib/pkgconfig/prusaconnect.pc)
  if(NOT EXISTS "${pkg}/${file}")
    message(FATAL_ERROR "the package has no ${file}")
  endif()
endforeach()
foreach(dir debug/include debug/share lib/cmake debug/lib/cmake bin debug/bin tools)
  if(EXISTS "${pkg}/${dir}")
    message(FATAL_ERROR "the package should have no ${dir}")
  endif()
endforeach()
file(GLOB_RECURSE dirs LIST_DIRECTORIES true "${pkg}/*")
foreach(dir IN LISTS dirs)
  if(IS_DIRECTORY "${dir}")
    file(GLOB entries "${dir}/*")
    if(NOT entries)
      message(FATAL_ERROR "empty directory in the package: ${dir}")
    endif()
  endif()
endforeach()
# Relocatable: no text file names where it was built.
file(GLOB_RECURSE texts "${pkg}/share/*" "${pkg}/include/*" "${pkg}/*.pc")
foreach(file IN LISTS texts)
  file(READ "${file}" contents)
  foreach(path "${WORK_DIR}" "${SOURCE_DIR}")
    string(FIND "${contents}" "${path}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "${file} names ${path}")
    endif()
  endforeach()
endforeach()

# ---- an outside project, found through CMAKE_PREFIX_PATH as vcpkg's
# toolchain file would add it ----
set(consumer "${SOURCE_DIR}/tests/install/consumer")
foreach(config Release Debug)
  set(build "${WORK_DIR}/consumer-${config}")
  run(${CMAKE_COMMAND} -S "${consumer}" -B "${build}" -G "${GENERATOR}"
      -DCMAKE_BUILD_TYPE=${config} "-DCMAKE_PREFIX_PATH=${pkg}")
  run(${CMAKE_COMMAND} --build "${build}")
  # The import file of the configuration built names the library linked.
  if(config STREQUAL "Debug")
    set(expected "${pkg}/debug/lib/")
  else()
    set(expected "${pkg}/lib/")
  endif()
  file(GLOB_RECURSE link_rules "${build}/build.ninja" "${build}/*/link.txt")
  set(links "")
  foreach(rules IN LISTS link_rules)
    file(READ "${rules}" text)
    string(APPEND links "${text}")
  endforeach()
  string(FIND "${links}" "${expected}libprusaconnect" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the ${config} consumer does not link ${expected}libprusaconnect")
  endif()
  run("${build}/consumer")
  message(STATUS "${config} consumer: ${last_output}")
endforeach()

# ---- pkg-config: the release file builds the consumer; the debug file's
# include directory is the release one ----
find_program(PKG_CONFIG pkg-config REQUIRED)
find_program(CXX NAMES c++ g++ REQUIRED)
set(ENV{PKG_CONFIG_PATH} "${pkg}/debug/lib/pkgconfig")
run(${PKG_CONFIG} --variable=includedir prusaconnect)
string(STRIP "${last_output}" includedir)
if(NOT EXISTS "${includedir}/prusaconnect/prusaconnect.h")
  message(FATAL_ERROR "debug prusaconnect.pc: includedir ${includedir} has no prusaconnect/")
endif()
set(ENV{PKG_CONFIG_PATH} "${pkg}/lib/pkgconfig")
execute_process(COMMAND ${PKG_CONFIG} --cflags --libs prusaconnect
                RESULT_VARIABLE rc OUTPUT_VARIABLE flags OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config does not accept the package's prusaconnect.pc")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
run(${CXX} -std=c++17 "${consumer}/consumer.cc" -o "${WORK_DIR}/pc-consumer" ${flags})
set(ENV{LD_LIBRARY_PATH} "${pkg}/lib:$ENV{LD_LIBRARY_PATH}")
run("${WORK_DIR}/pc-consumer")
message(STATUS "pkg-config consumer: ${last_output}")
