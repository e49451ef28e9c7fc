"""``printer.fs``: the printer's storages, kept by the C++ library.

A read-mostly view with the SDK's names where they apply (``get``,
``to_dict_legacy``, ``get_os_path``, ``wait_until_path``); storages are
attached with ``Printer.attach(folder, storage)`` / ``Printer.detach``.
The library watches attached folders itself (inotify on its own);
``Printer.inotify_handler()`` only delivers what it has not read yet.

A storage whose files the host keeps (OctoPrint's file manager, a printer's
SD card) is a :class:`StorageProvider` subclass attached with
``Printer.attach_storage(provider)``. See docs/FILES.md for the path rules.
"""
import weakref
from typing import Any, Dict, List, Optional

from . import const

__all__ = ["File", "Filesystem", "StorageProvider", "InvalidStorageError"]

_FILE_TYPES = const.FileType._value2member_map_


class InvalidStorageError(ValueError):
    """A storage name that cannot be attached or detached (the SDK's)."""


class StorageInUseError(InvalidStorageError, FileExistsError):
    """attach() of a name in use: the SDK's InvalidStorageError, and the
    FileExistsError libprusaconnect raised before."""


class UnknownStorageError(InvalidStorageError, FileNotFoundError):
    """detach() of a name not attached: the SDK's InvalidStorageError, and
    the FileNotFoundError libprusaconnect raised before."""


class File:
    """A snapshot of a file or folder at the time it was asked for; read it
    as the SDK's File (``size``, ``parent``, ``node["name"]``, ``"name" in
    node``, ``get(name or parts)``). It is not a tree to build: a storage the
    host keeps is a StorageProvider."""

    def __init__(self, node: Dict[str, Any], path: str, parent: Optional["File"] = None):
        self.name: str = node["name"]
        self.path: str = path
        self.parent: Optional["File"] = parent
        self.type: const.FileType = _FILE_TYPES[node["type"]]
        self.is_dir: bool = "children" in node
        self.attrs: Dict[str, Any] = {
            key: node[key] for key in ("size", "m_timestamp", "read_only") if key in node}
        base = path.rstrip("/")
        self.children: Dict[str, "File"] = {
            child["name"]: File(child, f"{base}/{child['name']}", self)
            for child in node.get("children", [])}

    @property
    def size(self) -> int:
        """Bytes; for a folder the files below it, as the SDK counts them."""
        if self.is_dir:
            return sum(child.size for child in self.children.values())
        return int(self.attrs.get("size", 0))

    def get(self, name) -> Optional["File"]:
        """The child `name`, or the node down a list of names; None if absent."""
        if isinstance(name, str):
            return self.children.get(name)
        node: Optional[File] = self
        for part in name:
            node = node.children.get(part) if node is not None else None
        return node

    def __getitem__(self, name: str) -> "File":
        return self.children[name]

    def __contains__(self, name) -> bool:
        return name in self.children

    def __iter__(self):
        return iter(self.children.values())

    def to_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"type": self.type.value, "name": self.name, **self.attrs}
        if self.is_dir:
            out["children"] = [child.to_dict() for child in self.children.values()]
        return out

    def __repr__(self):
        return f"<File {self.path} {self.type.value} {self.attrs}>"


class StorageProvider:
    """A storage whose files the host keeps: subclass it, set ``name`` and
    implement ``list()``; the file commands and downloads are optional.
    Attach it with ``printer.attach_storage(provider)``; after the files
    changed outside Connect's commands call ``printer.refresh_storage(name)``
    (Connect then gets FILE_CHANGED).

    Paths are relative to the storage ("box.gcode", "sub/box.gcode"), never
    empty, never absolute, and validated by the library before a method sees
    them. Methods run on library threads (a command's handler thread, a
    download's thread, the caller of attach_storage/refresh_storage), one at
    a time for one provider, holding the GIL only while they run: a method
    may block (the printer keeps sending telemetry meanwhile).

    A refusal is an exception; the command ends FAILED with its text as the
    reason: ``PermissionError`` (read-only), ``FileNotFoundError``,
    ``FileExistsError``, ``ValueError``, ``NotImplementedError`` (not
    supported) or ``RuntimeError`` (e.g. "file is being printed"). Any other
    exception fails the command too, with its repr, and is logged.
    """

    #: The storage's name: "/<name>/..." in Connect.
    name: str = "local"

    def list(self) -> Dict[str, Any]:
        """The whole tree now: ``{"children": [node, ...]}`` where a node is
        ``{"name": str, "size": int, "m_timestamp": int (epoch seconds),
        "read_only": bool}`` (all but the name optional) and a folder has
        ``"children": [...]``. Hidden names (".x") are skipped."""
        raise NotImplementedError("list() is not implemented")

    def space(self) -> Dict[str, int]:
        """``{"free_space": bytes, "total_space": bytes}``, either optional."""
        return {}

    def metadata(self, path: str) -> Dict[str, Any]:
        """SEND_FILE_INFO's metadata of a print file: ``{"data": {...}
        (gcode-metadata's keys, e.g. "estimated printing time (normal
        mode)"), "thumbnails": [{"key": "16x16_PNG", "width": 16, "height":
        16, "format": "PNG", "data": <base64 str>}]}``."""
        raise NotImplementedError("metadata is not available")

    def create_folder(self, path: str) -> None:
        raise NotImplementedError("not supported by this storage")

    def delete_file(self, path: str) -> None:
        raise NotImplementedError("not supported by this storage")

    def delete_folder(self, path: str, force: bool) -> None:
        raise NotImplementedError("not supported by this storage")

    def store_file(self, path: str, local_file: str) -> None:
        """Receives a completed download: ``local_file`` holds all of its
        bytes; store it at ``path``. The library removes ``local_file``
        afterwards. Downloads into a provider that does not override this
        are refused before they start."""
        raise NotImplementedError("not supported by this storage")


def _node_dict(node) -> Dict[str, Any]:
    """A library Node as a dict: name, type, size, m_timestamp and
    read_only when known, and the children of a folder."""
    out: Dict[str, Any] = {"name": node.name, "type": node.type, "size": node.size}
    if node.m_timestamp is not None:
        out["m_timestamp"] = node.m_timestamp
    if node.read_only is not None:
        out["read_only"] = node.read_only
    if node.is_dir:
        out["children"] = [_node_dict(child) for child in node.children]
    return out


class Filesystem:
    """The storages of one printer."""

    def __init__(self, printer):
        self._printer = weakref.ref(printer)

    def _native(self):
        """The library's Filesystem of the printer (files.h)."""
        return self._printer()._native.fs()  # pylint: disable=protected-access

    @property
    def storages(self) -> List[str]:
        """Attached storage names, in attach order."""
        return self._native().storages()

    mounts = storages  # the SDK's name for the attached storages

    def get(self, abs_path: str, depth: int = -1) -> Optional[File]:
        """The node at a virtual path ("/usb/a.gcode", or as the SDK also
        takes it "usb/a.gcode/"), or None."""
        abs_path = "/" + str(abs_path).strip("/")
        node = self._native().Get(abs_path, depth)
        return File(_node_dict(node), abs_path) if node is not None else None

    def to_dict_legacy(self) -> Dict[str, Any]:
        """SEND_INFO's "files" tree."""
        return self._native().ToDictLegacy()

    def file_info(self, abs_path: str) -> Dict[str, Any]:
        """SEND_FILE_INFO's data (attributes, metadata, preview)."""
        return self._native().FileInfo(abs_path)

    def get_os_path(self, abs_path: str) -> str:
        """The OS path of a virtual path in a local storage."""
        return self._native().OsPath(abs_path)

    def wait_until_path(self, abs_path: str, timeout: float = 10.0,
                        exists: bool = True) -> bool:
        """Waits until the path exists (or no longer does)."""
        return self._native().WaitUntilPath(abs_path, int(timeout * 1000), exists)

    def space(self, storage: str) -> Dict[str, int]:
        """{"free_space", "total_space"} when known."""
        space = self._native().Space(storage)
        return {key: value for key, value in (("free_space", space.free_space),
                                              ("total_space", space.total_space))
                if value is not None}

    def attach(self, storage: str, folder: str):
        self._printer().attach(folder, storage)

    def detach(self, storage: str):
        self._printer().detach(storage)
