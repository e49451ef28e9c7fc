# Stand-ins for the vcpkg functions ports/prusaconnect/portfile.cmake calls,
# for vcpkg_port_test.cmake (which says what this proves and what it cannot).
# Each one does what vcpkg's own does on a Linux triplet, for what the
# portfile passes; the two fixups repeat vcpkg's path rewriting literally
# (ports/vcpkg-cmake-config/vcpkg_cmake_config_fixup.cmake and
# scripts/cmake/vcpkg_fixup_pkgconfig.cmake in microsoft/vcpkg), because the
# moved package must still find its files. Anything the portfile passes that
# a stand-in does not handle fails, as vcpkg's own do for arguments they do
# not know.
#
# Expects what vcpkg's ports.cmake sets: PORT, FEATURES, TARGET_TRIPLET,
# VCPKG_LIBRARY_LINKAGE, VCPKG_CONCURRENCY, CURRENT_PACKAGES_DIR,
# CURRENT_BUILDTREES_DIR, CURRENT_INSTALLED_DIR; and Z_SHIM_GENERATOR, the
# CMake generator, and Z_SHIM_EXTRA_OPTIONS, options for both configurations
# (where vcpkg's triplet and toolchain would put compiler flags).

function(z_shim_run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}")
  endif()
endfunction()

function(z_shim_no_extra_arguments)
  if(DEFINED arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "${CMAKE_CURRENT_FUNCTION}: the stand-in does not handle "
                        "${arg_UNPARSED_ARGUMENTS}")
  endif()
endfunction()

# FEATURES pairs: -D<var>=ON when the feature is being built, OFF otherwise.
function(vcpkg_check_features)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "OUT_FEATURE_OPTIONS;PREFIX" "FEATURES")
  z_shim_no_extra_arguments()
  set(options "")
  set(pairs ${arg_FEATURES})
  while(pairs)
    list(POP_FRONT pairs feature variable)
    if(feature IN_LIST FEATURES)
      list(APPEND options "-D${variable}=ON")
    else()
      list(APPEND options "-D${variable}=OFF")
    endif()
  endwhile()
  set(${arg_OUT_FEATURE_OPTIONS} "${options}" PARENT_SCOPE)
endfunction()

# Configures <buildtrees>/<triplet>-rel (Release, installs to the package)
# and <triplet>-dbg (Debug, installs to <package>/debug), with the variables
# vcpkg_cmake_configure sets that matter off Windows. vcpkg's toolchain
# file is not used: the dependencies come from the system.
function(vcpkg_cmake_configure)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "SOURCE_PATH" "OPTIONS;OPTIONS_RELEASE;OPTIONS_DEBUG")
  z_shim_no_extra_arguments()
  if(VCPKG_LIBRARY_LINKAGE STREQUAL "dynamic")
    set(shared ON)
  else()
    set(shared OFF)
  endif()
  set(common -G "${Z_SHIM_GENERATOR}" -DBUILD_SHARED_LIBS=${shared}
      -DCMAKE_INSTALL_LIBDIR:STRING=lib -DCMAKE_INSTALL_BINDIR:STRING=bin
      -DCMAKE_EXPORT_NO_PACKAGE_REGISTRY=ON -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON
      -DCMAKE_FIND_PACKAGE_NO_SYSTEM_PACKAGE_REGISTRY=ON
      -DCMAKE_ERROR_ON_ABSOLUTE_INSTALL_DESTINATION=ON -DFETCHCONTENT_FULLY_DISCONNECTED=ON
      ${Z_SHIM_EXTRA_OPTIONS})
  foreach(config rel dbg)
    set(dir "${CURRENT_BUILDTREES_DIR}/${TARGET_TRIPLET}-${config}")
    file(REMOVE_RECURSE "${dir}")
    file(MAKE_DIRECTORY "${dir}")
    if(config STREQUAL "rel")
      set(specific -DCMAKE_BUILD_TYPE=Release "-DCMAKE_INSTALL_PREFIX=${CURRENT_PACKAGES_DIR}"
          ${arg_OPTIONS_RELEASE})
    else()
      set(specific -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_INSTALL_PREFIX=${CURRENT_PACKAGES_DIR}/debug"
          ${arg_OPTIONS_DEBUG})
    endif()
    message(STATUS "Configuring ${TARGET_TRIPLET}-${config}")
    z_shim_run(${CMAKE_COMMAND} -S "${arg_SOURCE_PATH}" -B "${dir}" ${common} ${arg_OPTIONS} ${specific})
  endforeach()
endfunction()

function(vcpkg_cmake_install)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "" "")
  z_shim_no_extra_arguments()
  foreach(config dbg rel)
    message(STATUS "Building ${TARGET_TRIPLET}-${config}")
    z_shim_run(${CMAKE_COMMAND} --build "${CURRENT_BUILDTREES_DIR}/${TARGET_TRIPLET}-${config}"
               --target install --parallel ${VCPKG_CONCURRENCY})
  endforeach()
endfunction()

# Copies PDBs next to DLLs: Windows only, nothing to do here.
function(vcpkg_copy_pdbs)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "" "")
  z_shim_no_extra_arguments()
endfunction()

# Moves <package>[/debug]/<CONFIG_PATH> to <package>/share/<port>, puts the
# debug import files next to the release ones with their paths pointed at
# debug/, and corrects the prefix computations for the new depth.
function(vcpkg_cmake_config_fixup)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "CONFIG_PATH" "")
  z_shim_no_extra_arguments()
  set(release_share "${CURRENT_PACKAGES_DIR}/share/${PORT}")
  set(debug_share "${CURRENT_PACKAGES_DIR}/debug/share/${PORT}")
  foreach(root "${CURRENT_PACKAGES_DIR}/debug" "${CURRENT_PACKAGES_DIR}")
    set(from "${root}/${arg_CONFIG_PATH}")
    if(NOT IS_DIRECTORY "${from}")
      message(FATAL_ERROR "'${from}' does not exist.")
    endif()
    file(GLOB files "${from}/*")
    file(COPY ${files} DESTINATION "${root}/share/${PORT}")
    file(REMOVE_RECURSE "${from}")
    # The emptied lib/cmake goes too.
    get_filename_component(parent "${from}" DIRECTORY)
    get_filename_component(parent_name "${parent}" NAME)
    if(parent_name STREQUAL "cmake")
      file(REMOVE_RECURSE "${parent}")
    endif()
  endforeach()

  file(GLOB release_targets "${release_share}/*-[Rr]elease.cmake")
  foreach(file IN LISTS release_targets)
    file(READ "${file}" contents)
    string(REPLACE "${CURRENT_INSTALLED_DIR}" "\${_IMPORT_PREFIX}" contents "${contents}")
    file(WRITE "${file}" "${contents}")
  endforeach()
  file(GLOB debug_targets "${debug_share}/*-[Dd]ebug.cmake")
  foreach(file IN LISTS debug_targets)
    file(READ "${file}" contents)
    string(REPLACE "${CURRENT_INSTALLED_DIR}" "\${_IMPORT_PREFIX}" contents "${contents}")
    string(REPLACE "\${_IMPORT_PREFIX}/lib" "\${_IMPORT_PREFIX}/debug/lib" contents "${contents}")
    string(REPLACE "\${_IMPORT_PREFIX}/bin" "\${_IMPORT_PREFIX}/debug/bin" contents "${contents}")
    get_filename_component(name "${file}" NAME)
    file(WRITE "${release_share}/${name}" "${contents}")
    file(REMOVE "${file}")
  endforeach()

  file(GLOB main_cmakes "${release_share}/*.cmake")
  foreach(main_cmake IN LISTS main_cmakes)
    file(READ "${main_cmake}" contents)
    # vcpkg's prefix correction, verbatim: the files now sit two levels below
    # the prefix (share/<port>) whatever depth they were generated for.
    string(REGEX REPLACE
[[get_filename_component\(_IMPORT_PREFIX "\${CMAKE_CURRENT_LIST_FILE}" PATH\)(
get_filename_component\(_IMPORT_PREFIX "\${_IMPORT_PREFIX}" PATH\))*]]
[[get_filename_component(_IMPORT_PREFIX "${CMAKE_CURRENT_LIST_FILE}" PATH)
get_filename_component(_IMPORT_PREFIX "${_IMPORT_PREFIX}" PATH)
get_filename_component(_IMPORT_PREFIX "${_IMPORT_PREFIX}" PATH)]]
      contents "${contents}")
    string(REGEX REPLACE
[[get_filename_component\(PACKAGE_PREFIX_DIR "\${CMAKE_CURRENT_LIST_DIR}/\.\./(\.\./)*" ABSOLUTE\)]]
[[get_filename_component(PACKAGE_PREFIX_DIR "${CMAKE_CURRENT_LIST_DIR}/../../" ABSOLUTE)]]
      contents "${contents}")
    # vcpkg merges a target's INTERFACE_LINK_LIBRARIES when the release and
    # debug import files differ; ours must not differ (the stand-in does not
    # merge, so it says so rather than pass).
    string(REPLACE "${release_share}/" "${debug_share}/" debug_cmake "${main_cmake}")
    if(contents MATCHES "# Generated CMake target import file\\." AND
       contents MATCHES "INTERFACE_LINK_LIBRARIES")
      file(READ "${debug_cmake}" debug_contents)
      string(REGEX MATCHALL "INTERFACE_LINK_LIBRARIES \"[^\"]*\"" release_libs "${contents}")
      string(REGEX MATCHALL "INTERFACE_LINK_LIBRARIES \"[^\"]*\"" debug_libs "${debug_contents}")
      if(NOT release_libs STREQUAL debug_libs)
        message(FATAL_ERROR "${main_cmake}: release and debug link interfaces differ "
                            "(${release_libs} / ${debug_libs}); vcpkg would merge them, "
                            "the stand-in cannot")
      endif()
    endif()
    # Absolute paths into the package or the installed tree become relative.
    string(REPLACE "${CURRENT_INSTALLED_DIR}" [[${VCPKG_IMPORT_PREFIX}]] contents "${contents}")
    string(REPLACE "${CURRENT_PACKAGES_DIR}" [[${VCPKG_IMPORT_PREFIX}]] contents "${contents}")
    string(FIND "${contents}" [[${VCPKG_IMPORT_PREFIX}]] index)
    if(NOT index EQUAL -1)
      string(PREPEND contents
        "get_filename_component(VCPKG_IMPORT_PREFIX \"\${CMAKE_CURRENT_LIST_DIR}/../../\" ABSOLUTE)\n")
    endif()
    file(WRITE "${main_cmake}" "${contents}")
  endforeach()

  # The debug copies of the config files are not used.
  file(GLOB unused "${debug_share}/*[Tt]argets.cmake" "${debug_share}/*[Cc]onfig.cmake"
                   "${debug_share}/*[Cc]onfigVersion.cmake" "${debug_share}/*[Cc]onfig-version.cmake")
  if(unused)
    file(REMOVE ${unused})
  endif()
  file(GLOB_RECURSE remaining "${CURRENT_PACKAGES_DIR}/debug/share/*")
  if(NOT remaining)
    file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/debug/share")
  endif()
endfunction()

# Rewrites each .pc file's prefix relative to ${pcfiledir}; in debug/ the
# include and share paths point up to the release ones; a static build folds
# the .private fields in. Then pkg-config must accept every file.
function(vcpkg_fixup_pkgconfig)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "" "")
  z_shim_no_extra_arguments()
  file(GLOB_RECURSE RELEASE_files "${CURRENT_PACKAGES_DIR}/*.pc")
  file(GLOB_RECURSE DEBUG_files "${CURRENT_PACKAGES_DIR}/debug/*.pc")
  if(DEBUG_files)
    list(REMOVE_ITEM RELEASE_files ${DEBUG_files})
  endif()
  find_program(PKGCONFIG pkg-config REQUIRED)
  foreach(config RELEASE DEBUG)
    if(config STREQUAL "DEBUG")
      set(root "${CURRENT_PACKAGES_DIR}/debug")
    else()
      set(root "${CURRENT_PACKAGES_DIR}")
    endif()
    foreach(file IN LISTS ${config}_files)
      message(STATUS "Fixing pkgconfig file: ${file}")
      get_filename_component(dir "${file}" DIRECTORY)
      set(relative "${root}")
      cmake_path(RELATIVE_PATH relative BASE_DIRECTORY "${dir}")
      file(READ "${file}" contents)
      string(REPLACE "\r\n" "\n" contents "\n${contents}\n")
      string(REPLACE [[${pc_sysrootdir}]] "" contents "${contents}")
      string(REPLACE "${CURRENT_PACKAGES_DIR}" [[${prefix}]] contents "${contents}")
      string(REPLACE "${CURRENT_INSTALLED_DIR}" [[${prefix}]] contents "${contents}")
      string(REGEX REPLACE "\n[\t ]*prefix[\t ]*=[^\n]*" "" contents
             "prefix=\${pcfiledir}/${relative}${contents}")
      if(config STREQUAL "DEBUG")
        string(REPLACE [[${prefix}/debug]] [[${prefix}]] contents "${contents}")
        string(REPLACE [[${prefix}/include]] [[${prefix}/../include]] contents "${contents}")
        string(REPLACE [[${prefix}/share]] [[${prefix}/../share]] contents "${contents}")
      endif()
      if(VCPKG_LIBRARY_LINKAGE STREQUAL "static")
        foreach(item Libs Requires Cflags)
          set(line "")
          if(contents MATCHES "\n${item}: *([^\n]*)")
            string(APPEND line " ${CMAKE_MATCH_1}")
          endif()
          if(contents MATCHES "\n${item}\\.private: *([^\n]*)")
            string(APPEND line " ${CMAKE_MATCH_1}")
          endif()
          string(REGEX REPLACE "\n${item}(\\.private)?:[^\n]*" "" contents "${contents}")
          if(NOT line STREQUAL "")
            string(APPEND contents "${item}:${line}\n")
          endif()
        endforeach()
      endif()
      # Flags with a variable are quoted (vcpkg does it for Libs item by
      # item and then for -L/-I/-l${...} anywhere; for our files, the same).
      string(REGEX REPLACE "([ =])(-[LIl]\\\${[^}]*}[^ ;\n\t]*)" [[\1"\2"]] contents "${contents}")
      file(WRITE "${file}" "${contents}")
    endforeach()
    # As vcpkg: the package's own directory first, then what pkg-config
    # finds by default (here the system's libcurl and OpenSSL).
    foreach(file IN LISTS ${config}_files)
      get_filename_component(dir "${file}" DIRECTORY)
      get_filename_component(name "${file}" NAME_WE)
      set(ENV{PKG_CONFIG_PATH} "${dir}")
      z_shim_run(${PKGCONFIG} --print-errors --exists ${name})
      unset(ENV{PKG_CONFIG_PATH})
    endforeach()
  endforeach()
endfunction()

# One license file becomes share/<port>/copyright; several are concatenated,
# each under its name.
function(vcpkg_install_copyright)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "COMMENT" "FILE_LIST")
  z_shim_no_extra_arguments()
  list(LENGTH arg_FILE_LIST count)
  if(count EQUAL 0)
    message(FATAL_ERROR "FILE_LIST must contain at least one file")
  endif()
  if(count EQUAL 1 AND NOT arg_COMMENT)
    file(INSTALL "${arg_FILE_LIST}" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}"
         RENAME copyright)
    return()
  elseif(count EQUAL 1)
    file(READ "${arg_FILE_LIST}" text)
  else()
    set(text "")
    foreach(file IN LISTS arg_FILE_LIST)
      get_filename_component(name "${file}" NAME)
      file(READ "${file}" body)
      string(APPEND text "${name}:\n\n${body}\n\n")
    endforeach()
  endif()
  if(arg_COMMENT)
    string(PREPEND text "${arg_COMMENT}\n\n")
  endif()
  file(WRITE "${CURRENT_PACKAGES_DIR}/share/${PORT}/copyright" "${text}")
endfunction()
