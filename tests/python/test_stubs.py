"""The type hints (.pyi, or inline as printer.py's) describe the package as
it is: every name a stub declares exists, and every public name of the
modules and classes is in its stub (a small stubtest; mypy is not available
from Debian here).

The compiled module `_prusaconnect` has a partial stub (everything Any):
its surface is the library's public headers, which SWIG wraps as they are;
test_printer_header_is_wrapped checks that for Printer."""
import ast
import importlib
import inspect
import os
import re

import pytest

import prusaconnect

PKG = os.path.dirname(prusaconnect.__file__)
MODULES = ["__init__", "camera", "command", "conditions", "const", "download", "files", "models",
           "printer", "util"]
HEADERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "include",
                       "prusaconnect")


def stub(module):
    """The module's .pyi, or the module itself when its hints are inline."""
    path = os.path.join(PKG, module + ".pyi")
    if not os.path.exists(path):
        path = os.path.join(PKG, module + ".py")
    with open(path) as f:
        return ast.parse(f.read())


def methods(node):
    """Functions, properties and nested classes a stub class declares."""
    return {item.name for item in node.body if isinstance(item, (ast.FunctionDef, ast.ClassDef))}


def declared(node):
    """Names a stub module or class body declares."""
    names = set()
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.ClassDef)):
            names.add(item.name)
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            names.add(item.target.id)
        elif isinstance(item, ast.Assign):
            names.update(t.id for t in item.targets if isinstance(t, ast.Name))
        elif isinstance(item, ast.ImportFrom):
            names.update(a.asname or a.name for a in item.names if a.asname)
    return names


def public(obj, own_only=False):
    names = set(vars(obj)) if own_only else set(dir(obj))
    return {n for n in names if not n.startswith("_")}


@pytest.mark.parametrize("module", MODULES)
def test_stub_names_exist(module):
    mod = prusaconnect if module == "__init__" else importlib.import_module(
        f"prusaconnect.{module}")
    tree = stub(module)
    for name in declared(tree):
        assert hasattr(mod, name), f"{module}.pyi declares {name}, which does not exist"
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        runtime = getattr(mod, cls.name)
        is_enum = isinstance(runtime, type) and issubclass(runtime, prusaconnect.const.Enum)
        # Instance attributes (annotations) are checked by the surface test.
        for name in (declared(cls) - {"value"}) if is_enum else methods(cls):
            assert hasattr(runtime, name), f"{module}.{cls.name}.{name} declared but missing"


@pytest.mark.parametrize("module", [m for m in MODULES if m != "__init__"])
def test_public_names_are_in_the_stubs(module):
    mod = importlib.import_module(f"prusaconnect.{module}")
    tree = stub(module)
    names = declared(tree)
    exported = getattr(mod, "__all__", None)
    if exported is None:
        exported = [n for n, v in vars(mod).items() if not n.startswith("_")
                    and getattr(v, "__module__", mod.__name__) == mod.__name__
                    and not inspect.ismodule(v)]
    missing = set(exported) - names
    assert not missing, f"{module}.pyi lacks {sorted(missing)}"


@pytest.mark.parametrize("module, cls", [("printer", "Printer"), ("command", "Command")])
def test_class_surface_is_in_the_stubs(module, cls):
    mod = importlib.import_module(f"prusaconnect.{module}")
    tree = stub(module)
    (node,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls]
    runtime = getattr(mod, cls)
    own = public(runtime, own_only=True)
    instance_attrs = {"command", "conditions", "fs", "register_handler", "download_finished_cb",
                      "handlers", "stop_cb", "transfer", "download_mgr",
                      "camera_controller"}
    missing = (own | (instance_attrs & declared(node))) - declared(node)
    assert not missing, f"{cls} stub lacks {sorted(missing)}"


# Printer methods prusaconnect.i leaves out: callbacks (PythonPrinter installs
# them with the GIL rules), loop() (printer.py waits interruptibly).
NOT_WRAPPED = {"Printer", "set_register_handler", "set_handler", "set_stop_cb",
               "set_printed_file_cb", "set_download_finished_cb", "set_request_observer",
               "attach_storage", "loop"}


def test_printer_header_is_wrapped():
    """Every public method of prusaconnect::Printer (printer.h) is callable
    on the compiled module's Printer: a new method needs no binding code."""
    from prusaconnect import _prusaconnect  # pylint: disable=import-outside-toplevel
    with open(os.path.join(HEADERS, "printer.h")) as f:
        header = f.read()
    body = header[header.index("class PRUSACONNECT_API Printer {"):]
    body = body[:body.index("\n private:")]
    names = set(re.findall(r"^  (?:static )?[\w:<>, *&]+?[ *&](\w+)\(", body, re.M))
    assert {"set_state", "telemetry", "register_printer", "fs", "cameras"} <= names
    missing = sorted(n for n in names - NOT_WRAPPED if not hasattr(_prusaconnect.Printer, n))
    assert not missing, f"printer.h methods not wrapped: {missing}"
    assert issubclass(_prusaconnect.PythonPrinter, _prusaconnect.Printer)
