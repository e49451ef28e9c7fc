"""The type hints (.pyi) describe the package as it is: every name a stub
declares exists, and every public name of the modules and classes is in
its stub (a small stubtest; mypy is not available from Debian here)."""
import ast
import importlib
import inspect
import os

import pytest

import prusaconnect

PKG = os.path.dirname(prusaconnect.__file__)
MODULES = ["__init__", "camera", "command", "conditions", "const", "download", "files", "models", "printer", "util",
           "_prusaconnect"]


def stub(module):
    with open(os.path.join(PKG, module + ".pyi")) as f:
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


@pytest.mark.parametrize("module, cls", [("printer", "Printer"), ("command", "Command"),
                                         ("_prusaconnect", "NativePrinter")])
def test_class_surface_is_in_the_stubs(module, cls):
    mod = importlib.import_module(f"prusaconnect.{module}")
    tree = stub(module)
    (node,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls]
    runtime = getattr(mod, cls)
    own = public(runtime, own_only=(module != "_prusaconnect"))
    instance_attrs = {"command", "conditions", "fs", "register_handler", "download_finished_cb",
                      "handlers", "stop_cb", "transfer", "download_mgr",
                      "camera_controller"}
    missing = (own | (instance_attrs & declared(node))) - declared(node)
    if module == "_prusaconnect":
        missing -= {"acquire", "append", "disown", "next", "own", "this", "thisown"}
    assert not missing, f"{cls} stub lacks {sorted(missing)}"
