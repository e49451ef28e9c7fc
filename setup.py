"""Builds the `prusaconnect` Python package (see pyproject.toml).

The pure-Python modules come from bindings/python/prusaconnect; the
extension `prusaconnect._prusaconnect` is built by CMake (target
_prusaconnect) with libprusaconnect linked in statically. Environment:
PRUSACONNECT_CMAKE_ARGS adds CMake arguments, CMAKE_BUILD_PARALLEL_LEVEL
sets the build jobs (default 2).
"""
import glob
import os
import shlex
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))
BUILD_BASE = os.path.join("build", "setuptools")  # next to CMake's build trees
os.makedirs(os.path.join(ROOT, BUILD_BASE), exist_ok=True)


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = os.path.abspath(os.path.join(self.build_temp, "cmake"))
        args = [
            "cmake", "-S", ROOT, "-B", build_dir,
            "-DCMAKE_BUILD_TYPE=Release",
            "-DBUILD_SHARED_LIBS=OFF",
            "-DPRUSACONNECT_BUILD_PYTHON=ON",
            "-DPRUSACONNECT_BUILD_TESTS=OFF",
            "-DPRUSACONNECT_BUILD_BENCH=OFF",
            "-DPRUSACONNECT_BUILD_EXAMPLES=OFF",
            "-DPRUSACONNECT_BUILD_EMULATOR=OFF",
            f"-DPython3_EXECUTABLE={sys.executable}",
        ]
        if shutil.which("ninja"):
            args += ["-G", "Ninja"]
        args += shlex.split(os.environ.get("PRUSACONNECT_CMAKE_ARGS", ""))
        subprocess.check_call(args)
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", "2")
        subprocess.check_call(["cmake", "--build", build_dir, "--target", "_prusaconnect",
                               "-j", jobs])
        built = glob.glob(os.path.join(build_dir, "python", "prusaconnect", "_prusaconnect*.so"))
        if len(built) != 1:
            raise RuntimeError(f"expected one built extension, found {built}")
        target = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(built[0], target)


setup(
    packages=["prusaconnect"],
    package_dir={"prusaconnect": "bindings/python/prusaconnect"},
    package_data={"prusaconnect": ["*.pyi", "py.typed"]},
    ext_modules=[CMakeExtension("prusaconnect._prusaconnect")],
    cmdclass={"build_ext": CMakeBuild},
    options={"build": {"build_base": BUILD_BASE}, "egg_info": {"egg_base": BUILD_BASE}},
    zip_safe=False,
)
