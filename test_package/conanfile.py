# Checks a created prusaconnect package: a C++ program built against it with
# CMake (and, when the package has the Python bindings, an import of them).
import os

from conan import ConanFile
from conan.tools.build import can_run
from conan.tools.cmake import CMake, cmake_layout


class PrusaConnectTestConan(ConanFile):
    settings = "os", "arch", "compiler", "build_type"
    generators = "CMakeDeps", "CMakeToolchain"
    test_type = "explicit"

    def requirements(self):
        # run=True: the test's environment (conanrun) gets the package's
        # library directory and PYTHONPATH.
        self.requires(self.tested_reference_str, run=True)

    def layout(self):
        cmake_layout(self)

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def test(self):
        if not can_run(self):
            return
        self.run(os.path.join(self.cpp.build.bindir, "test_package"), env="conanrun")
        if self.dependencies[self.tested_reference_str].options.python:
            # The same checks through the bindings, with the interpreter
            # CMake found (python3 on PATH).
            self.run("python3 -c \"import prusaconnect as pc; "
                     "p = pc.Printer(pc.const.PrinterType.I3MK3, 'SN-CONAN', 'F' * 32); "
                     "print('python', pc.__library_version__, pc.__version__); "
                     "assert pc.__version__ == '0.8.1'\"", env="conanrun")
