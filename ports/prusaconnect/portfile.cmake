# libprusaconnect for vcpkg, as an overlay port kept in the repository it
# builds:
#   vcpkg install prusaconnect --overlay-ports=<checkout>/ports
# tests/packaging/vcpkg_port_test.cmake runs this file with stand-ins for
# the vcpkg functions it calls; keep the two in step.
#
# The source is this checkout, two levels up, not a download: the overlay
# port builds exactly the tree it sits in, so a change is tried without
# making a release. vcpkg hashes only the port's own files, so after
# changing the library pass --binarysource=clear (or remove the package)
# or a cached build is restored. A port for a registry would instead fetch
# a release archive pinned by its hash:
#   vcpkg_from_github(OUT_SOURCE_PATH SOURCE_PATH REPO <owner>/libprusaconnect
#                     REF "v${VERSION}" SHA512 <sha512 of that archive> HEAD_REF main)
get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)

vcpkg_check_features(OUT_FEATURE_OPTIONS FEATURE_OPTIONS
  FEATURES
    image-codecs PRUSACONNECT_IMAGE_CODECS
)

# The library only: the programs, tests, benchmarks and Python module need
# Abseil, SWIG and Python, which a library package must not pull in.
# BUILD_SHARED_LIBS comes from the triplet (vcpkg_cmake_configure). The hot
# layout stays on: it applies to shared builds with GNU ld and falls back to
# the default layout elsewhere (cmake/HotLayout.cmake).
vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    ${FEATURE_OPTIONS}
    -DPRUSACONNECT_BUILD_TESTS=OFF
    -DPRUSACONNECT_BUILD_BENCH=OFF
    -DPRUSACONNECT_BUILD_EXAMPLES=OFF
    -DPRUSACONNECT_BUILD_EMULATOR=OFF
    -DPRUSACONNECT_BUILD_PYTHON=OFF
    -DPRUSACONNECT_WERROR=OFF
)
vcpkg_cmake_install()
vcpkg_copy_pdbs()

# The CMake package is installed to lib/cmake/prusaconnect; vcpkg wants it in
# share/prusaconnect with the debug targets merged into it.
vcpkg_cmake_config_fixup(CONFIG_PATH lib/cmake/prusaconnect)
vcpkg_fixup_pkgconfig()

file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/debug/include" "${CURRENT_PACKAGES_DIR}/debug/share")

file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
# No license has been chosen yet (docs/PACKAGING.md). vcpkg requires
# share/<port>/copyright, so until a LICENSE file exists it says exactly that
# instead of naming one.
if(EXISTS "${SOURCE_PATH}/LICENSE")
  vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
else()
  file(WRITE "${CURRENT_PACKAGES_DIR}/share/${PORT}/copyright"
    "libprusaconnect has not chosen a license yet; no license is granted by this package.\n")
endif()
