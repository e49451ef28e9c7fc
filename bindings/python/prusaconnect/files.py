"""``printer.fs``: the printer's storages, kept by the C++ library.

A read-mostly view with the SDK's names where they apply (``get``,
``to_dict_legacy``, ``get_os_path``, ``wait_until_path``); storages are
attached with ``Printer.attach(folder, storage)`` / ``Printer.detach``.
The library watches attached folders itself (inotify on its own), so there
is no ``inotify_handler`` to run. See docs/FILES.md for the path rules.
"""
import weakref
from typing import Any, Dict, List, Optional

from . import const

__all__ = ["File", "Filesystem"]

_FILE_TYPES = const.FileType._value2member_map_


class File:
    """A snapshot of a file or folder at the time it was asked for."""

    def __init__(self, node: Dict[str, Any], path: str):
        self.name: str = node["name"]
        self.path: str = path
        self.type: const.FileType = _FILE_TYPES[node["type"]]
        self.is_dir: bool = "children" in node
        self.attrs: Dict[str, Any] = {
            key: node[key] for key in ("size", "m_timestamp", "read_only") if key in node}
        base = path.rstrip("/")
        self.children: Dict[str, "File"] = {
            child["name"]: File(child, f"{base}/{child['name']}")
            for child in node.get("children", [])}

    def get(self, name: str) -> Optional["File"]:
        return self.children.get(name)

    def __iter__(self):
        return iter(self.children.values())

    def to_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"type": self.type.value, "name": self.name, **self.attrs}
        if self.is_dir:
            out["children"] = [child.to_dict() for child in self.children.values()]
        return out

    def __repr__(self):
        return f"<File {self.path} {self.type.value} {self.attrs}>"


class Filesystem:
    """The storages of one printer."""

    def __init__(self, printer):
        self._printer = weakref.ref(printer)

    def _native(self):
        return self._printer()._native  # pylint: disable=protected-access

    @property
    def storages(self) -> List[str]:
        """Attached storage names, in attach order."""
        return self._native().storages()

    mounts = storages  # the SDK's name for the attached storages

    def get(self, abs_path: str, depth: int = -1) -> Optional[File]:
        """The node at a virtual path ("/usb/a.gcode"), or None."""
        node = self._native().fs_get(abs_path, depth)
        return File(node, abs_path) if node is not None else None

    def to_dict_legacy(self) -> Dict[str, Any]:
        """SEND_INFO's "files" tree."""
        return self._native().fs_to_dict_legacy()

    def file_info(self, abs_path: str) -> Dict[str, Any]:
        """SEND_FILE_INFO's data (attributes, metadata, preview)."""
        return self._native().fs_file_info(abs_path)

    def get_os_path(self, abs_path: str) -> str:
        """The OS path of a virtual path in a local storage."""
        return self._native().fs_os_path(abs_path)

    def wait_until_path(self, abs_path: str, timeout: float = 10.0,
                        exists: bool = True) -> bool:
        """Waits until the path exists (or no longer does)."""
        return self._native().fs_wait_until_path(abs_path, int(timeout * 1000), exists)

    def space(self, storage: str) -> Dict[str, int]:
        """{"free_space", "total_space"} when known."""
        return self._native().fs_space(storage)

    def attach(self, storage: str, folder: str):
        self._printer().attach(folder, storage)

    def detach(self, storage: str):
        self._printer().detach(storage)
