# Conan 2 recipe for libprusaconnect, built from this repository (issue #24;
# docs/install.md, "Conan").
#
#   conan create . -o "&:shared=False" -o "&:image_codecs=False"
#
# The dependencies are the platform's, not ConanCenter packages: libcurl,
# OpenSSL, zlib, RapidJSON, libjpeg and libpng are declared as Debian
# packages in system_requirements() (checked, or installed with
# tools.system.package_manager:mode=install) and found by the project's own
# find_package() calls. cpp_info gives consumers the CMake target
# prusaconnect::prusaconnect and the pkg-config name prusaconnect.
#
# Checked on Debian 12 (gcc 12, CMake 3.25) with Conan 2.8.1: `conan create`
# shared and static, each with and without image codecs and with Python;
# test_package builds, links and runs a Printer each time (and imports the
# Python module when it is built). Cross-built for armv8 with Debian's
# cross compiler and :arm64 packages (test_package built, not run).

import os
import re

from conan import ConanFile
from conan.errors import ConanException, ConanInvalidConfiguration
from conan.tools.build import check_min_cppstd
from conan.tools.cmake import CMake, CMakeToolchain, cmake_layout
from conan.tools.files import load, rmdir
from conan.tools.system.package_manager import Apt

required_conan_version = ">=2.0"

# Where the Python package is installed in the Conan package (the project's
# default is the interpreter's dist-packages under the prefix, whose name
# depends on the interpreter; a fixed one lets package_info() point
# PYTHONPATH at it).
_PYTHON_DIR = "lib/python"


class PrusaConnectConan(ConanFile):
    name = "prusaconnect"
    description = "Prusa Connect printer-side client library (C++ port of prusa-connect-sdk-printer)"
    topics = ("prusa-connect", "3d-printing", "printer")
    package_type = "library"
    settings = "os", "arch", "compiler", "build_type"
    # No fPIC option: the project compiles the library's sources once, as
    # position-independent code, for both the shared and the static library
    # (src/CMakeLists.txt), so the choice would not reach the compiler.
    options = {
        "shared": [True, False],
        # The SWIG bindings, for the python3 CMake finds (the first on PATH)
        # and only that Python version: the package ID does not record it.
        # package_info() adds their directory to PYTHONPATH.
        "python": [True, False],
        # Camera PNG and raw frames to JPEG through libjpeg and libpng,
        # dlopen()ed on first use. Off: no codecs needed to build or run;
        # those conversions fail with Unavailable.
        "image_codecs": [True, False],
    }
    default_options = {"shared": True, "python": False, "image_codecs": True}

    # What the top-level CMakeLists.txt reads with the tests, benchmarks,
    # examples and emulator off. bindings/ is exported whatever the options
    # (sources are exported before options are known); it is small.
    exports_sources = (
        "CMakeLists.txt", "cmake/*", "include/*", "src/*", "bindings/*",
        "!src/emulator/*", "!*/__pycache__/*", "!*.pyc")

    def set_version(self):
        # The one version of the project: project(prusaconnect VERSION x.y.z).
        text = load(self, os.path.join(self.recipe_folder, "CMakeLists.txt"))
        match = re.search(r"project\(\s*prusaconnect\s+VERSION\s+([0-9]+(?:\.[0-9]+)*)", text)
        if not match:
            raise ConanException("No project(prusaconnect VERSION ...) in CMakeLists.txt")
        self.version = match.group(1)

    def layout(self):
        # Not build/: `conan install .` / `conan build .` in a checkout would
        # write into the CMake tree developers build in (build/Release).
        cmake_layout(self, build_folder="build-conan")

    def validate(self):
        # inotify, V4L2, epoll and dlopen()ed sonames: Linux only.
        if self.settings.os != "Linux":
            raise ConanInvalidConfiguration("libprusaconnect builds on Linux only")
        check_min_cppstd(self, 17)

    def system_requirements(self):
        # Debian package names (Ubuntu's are the same). In check mode (Conan's
        # default) a missing one is an error naming it; in install mode
        # apt-get installs them, with the host architecture's suffix when
        # cross-building.
        host = ["libcurl4-openssl-dev", "libssl-dev", "zlib1g-dev"]
        # Architecture-independent (headers, the SWIG tool): never with an
        # arch suffix.
        arch_all = ["rapidjson-dev"]
        if self.options.image_codecs:
            # Headers at build time; the sonames of the libraries found then
            # are the ones dlopen()ed (libjpeg62-turbo, libpng16-16).
            host += ["libjpeg-dev", "libpng-dev"]
        if self.options.python:
            host.append("python3-dev")
            arch_all.append("swig")
        apt = Apt(self)
        apt.install(host, update=True)
        apt.install(arch_all, update=True, host_package=False)

    def generate(self):
        # No CMakeDeps: the recipe has no Conan requirements; the project's
        # find_package() calls find the system packages themselves.
        tc = CMakeToolchain(self)  # BUILD_SHARED_LIBS from the shared option
        for part in ("TESTS", "BENCH", "EXAMPLES", "EMULATOR"):
            tc.cache_variables[f"PRUSACONNECT_BUILD_{part}"] = False
        tc.cache_variables["PRUSACONNECT_BUILD_PYTHON"] = bool(self.options.python)
        if self.options.python:
            tc.cache_variables["PRUSACONNECT_PYTHON_INSTALL_DIR"] = _PYTHON_DIR
        tc.cache_variables["PRUSACONNECT_IMAGE_CODECS"] = bool(self.options.image_codecs)
        tc.generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def package(self):
        cmake = CMake(self)
        cmake.install()
        # Consumers get the CMake package and the pkg-config file that Conan
        # generates from package_info() (CMakeDeps, PkgConfigDeps); the
        # project's own would be found instead of them by some consumers.
        rmdir(self, os.path.join(self.package_folder, "lib", "cmake"))
        rmdir(self, os.path.join(self.package_folder, "lib", "pkgconfig"))

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "prusaconnect")
        self.cpp_info.set_property("cmake_target_name", "prusaconnect::prusaconnect")
        self.cpp_info.set_property("pkg_config_name", "prusaconnect")
        self.cpp_info.libs = ["prusaconnect"]
        if not self.options.shared:
            # What the shared library links privately (CURL::libcurl,
            # OpenSSL::Crypto, ZLIB::ZLIB, Threads, dl), a static one's
            # consumers must link. The codecs are dlopen()ed, never linked.
            self.cpp_info.system_libs = ["curl", "crypto", "z", "pthread", "dl"]
        if self.options.python:
            self.runenv_info.prepend_path("PYTHONPATH", os.path.join(self.package_folder, _PYTHON_DIR))
