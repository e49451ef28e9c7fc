# Debian packages of the install components (issue #24; docs/PACKAGING.md),
# made by CPack's DEB generator from a tree configured for /usr:
#
#   scripts/package [BUILD_DIR]      (configures, builds and runs cpack)
#
#   component    package
#   runtime      libprusaconnect0.1      the shared library (SONAME libprusaconnect.so.0.1)
#   development  libprusaconnect-dev     headers, CMake package, pkg-config file
#   python       python3-prusaconnect    the module for Debian's python3
#   bridge +     prusaconnect-bridge     the bridge and the OctoPrint daemon, their
#   octoprint                            units (and a template for several OctoPrint
#                                        daemons), /etc conffiles, the system user,
#                                        state under /var/lib
#   emulator     prusaconnect-emulator   the local Connect emulator
#   examples     prusaconnect-examples   the virtual printer, prusaconnect-cli
#
# Dependencies on system libraries are computed by dpkg-shlibdeps; between
# our packages they are exact versions.
option(PRUSACONNECT_DEB "Install for Debian packages (/etc conffiles, systemd unit, maintainer scripts)" OFF)
if(NOT PRUSACONNECT_DEB)
  return()
endif()
if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  message(FATAL_ERROR "PRUSACONNECT_DEB needs -DCMAKE_INSTALL_PREFIX=/usr")
endif()

if(NOT PRUSACONNECT_BUILD_EXAMPLES)
  message(FATAL_ERROR "PRUSACONNECT_DEB needs PRUSACONNECT_BUILD_EXAMPLES=ON (the daemons)")
endif()

set(_pkg ${PROJECT_SOURCE_DIR}/packaging/debian)
# What a package installs beyond `cmake --install`: the daemons' conffiles
# and their units where systemd looks (the units were already written for
# /usr at install time, before these rules run).
install(FILES ${PROJECT_SOURCE_DIR}/examples/octoprint_adapter/prusaconnect-octoprint.conf
        DESTINATION /etc COMPONENT octoprint)
install(FILES ${CMAKE_BINARY_DIR}/examples/octoprint_adapter/install/prusaconnect-octoprint.service
              ${CMAKE_BINARY_DIR}/examples/octoprint_adapter/install/prusaconnect-octoprint@.service
        DESTINATION /lib/systemd/system COMPONENT octoprint)
install(FILES ${PROJECT_SOURCE_DIR}/examples/bridge/prusaconnect-bridge.toml
        DESTINATION /etc COMPONENT bridge)
install(FILES ${CMAKE_BINARY_DIR}/examples/bridge/install/prusaconnect-bridge.service
        DESTINATION /lib/systemd/system COMPONENT bridge)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME prusaconnect)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "The libprusaconnect Authors")
# Each package's synopsis is the first line of its own description below.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "")
set(CPACK_PACKAGE_CONTACT "The libprusaconnect Authors <libprusaconnect@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA "${_pkg}/runtime/triggers")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Our own library, for dpkg-shlibdeps of the programs (their dependency on
# the runtime package is explicit below).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${CMAKE_BINARY_DIR}/src)
# A shlibs file in the runtime package: packages built against it depend on
# a runtime of at least this version (SONAME changes with every 0.x minor).
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_DEBIAN_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://connect.prusa3d.com")
set(CPACK_COMPONENTS_ALL runtime development python bridge octoprint emulator examples)
# The bridge and the OctoPrint daemon are one package (one user, one state
# root, one set of units); every other component is a package of its own.
set(CPACK_COMPONENTS_GROUPING ONE_PER_GROUP)
set(CPACK_COMPONENT_BRIDGE_GROUP daemons)
set(CPACK_COMPONENT_OCTOPRINT_GROUP daemons)
set(_v "${PROJECT_VERSION}")
set(_runtime "libprusaconnect${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}")

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME ${_runtime})
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION
    "Prusa Connect printer-side client library\nA C++ port of Prusa's prusa-connect-sdk-printer: registration, telemetry,\nevents, commands, files, downloads and cameras for any 3D printer host.")

set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME libprusaconnect-dev)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS
    "${_runtime} (= ${_v}), libcurl4-openssl-dev | libcurl-dev, libssl-dev, zlib1g-dev")
set(CPACK_DEBIAN_DEVELOPMENT_DESCRIPTION
    "Prusa Connect printer-side client library (development files)\nHeaders, the CMake package prusaconnect::prusaconnect and the pkg-config\nfile prusaconnect.")

set(CPACK_DEBIAN_PYTHON_PACKAGE_NAME python3-prusaconnect)
set(CPACK_DEBIAN_PYTHON_PACKAGE_SECTION python)
set(CPACK_DEBIAN_PYTHON_PACKAGE_DEPENDS "${_runtime} (= ${_v}), python3 (>= 3.11), python3 (<< 3.12)")
set(CPACK_DEBIAN_PYTHON_DESCRIPTION
    "Prusa Connect printer-side client library (Python 3)\nThe module prusaconnect, a drop-in for prusa.connect.printer.")

set(CPACK_DEBIAN_DAEMONS_PACKAGE_NAME prusaconnect-bridge)
set(CPACK_DEBIAN_DAEMONS_PACKAGE_SECTION net)
set(CPACK_DEBIAN_DAEMONS_PACKAGE_DEPENDS "${_runtime} (= ${_v}), adduser")
# Earlier builds packaged the OctoPrint daemon alone; this one takes over
# its files (the conffile included) when it is upgraded.
set(CPACK_DEBIAN_DAEMONS_PACKAGE_REPLACES "prusaconnect-octoprint")
set(CPACK_DEBIAN_DAEMONS_PACKAGE_BREAKS "prusaconnect-octoprint")
set(CPACK_DEBIAN_DAEMONS_PACKAGE_CONTROL_EXTRA
    "${_pkg}/daemons/conffiles;${_pkg}/daemons/postinst;${_pkg}/daemons/prerm;${_pkg}/daemons/postrm")
set(CPACK_DEBIAN_DAEMONS_DESCRIPTION
    "Prusa Connect bridge for 3D printers of many kinds\nprusaconnect-bridge puts many printers into Prusa Connect from one process:\nOctoPrint, Klipper through Moonraker and Bambu Lab printers in LAN mode, with\na local status API, a dashboard, notifications and cameras. The package also\nhas prusaconnect-octoprint, a daemon for one OctoPrint printer.")

set(CPACK_DEBIAN_EMULATOR_PACKAGE_NAME prusaconnect-emulator)
set(CPACK_DEBIAN_EMULATOR_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_EMULATOR_DESCRIPTION
    "Local Prusa Connect emulator\nThe printer API of Prusa Connect on 127.0.0.1, with a control API to queue\ncommands, approve registrations and inject faults: for tests and demos.")

set(CPACK_DEBIAN_EXAMPLES_PACKAGE_NAME prusaconnect-examples)
set(CPACK_DEBIAN_EXAMPLES_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_EXAMPLES_PACKAGE_DEPENDS "${_runtime} (= ${_v})")
set(CPACK_DEBIAN_EXAMPLES_DESCRIPTION
    "Prusa Connect virtual printer and command-line client\nprusaconnect-virtual-printer, a printer that registers, sends telemetry and\nanswers commands: the library's example program; prusaconnect-cli, which\nlists printers and sends them commands through Connect's user API, checked\nagainst the commands each printer supports.")

# A Debian changelog in every package (lintian: no-changelog).
set(_changelog ${CMAKE_BINARY_DIR}/packaging/changelog.gz)
file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/packaging)
execute_process(COMMAND gzip -9nc ${_pkg}/changelog OUTPUT_FILE ${_changelog} COMMAND_ERROR_IS_FATAL ANY)
foreach(_c runtime development python daemons emulator examples)
  string(TOUPPER ${_c} _C)
  set(_component ${_c})
  if(_c STREQUAL "daemons")
    set(_component bridge)  # the group's package gets it through this component
  endif()
  install(FILES ${_changelog} DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${CPACK_DEBIAN_${_C}_PACKAGE_NAME}
          COMPONENT ${_component})
endforeach()
# The image codecs are loaded on the first conversion (docs/CAMERAS.md).
set(CPACK_DEBIAN_RUNTIME_PACKAGE_RECOMMENDS "libjpeg62-turbo, libpng16-16")

include(CPack)
