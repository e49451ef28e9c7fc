"""The compiled module: SWIG's wrapping of the library's public headers.

Private to the package. Its classes and functions are those of
include/prusaconnect (Printer, Filesystem, Conditions, CameraController,
the structs of models.h, transfer.h, files.h and camera.h) with the type
mapping of bindings/python/prusaconnect.i: enums as their wire text,
std::optional as None, Status as exceptions. Nothing here is typed
further: the package's modules are the typed API.
"""
from typing import Any

def __getattr__(name: str) -> Any: ...
