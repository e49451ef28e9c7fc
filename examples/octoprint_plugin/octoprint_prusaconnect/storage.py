"""OctoPrint's own file manager as Connect's storage "/local" (a
prusaconnect.files.StorageProvider): its tree goes into SEND_INFO, Connect's
file commands and downloads go through ``self._file_manager``, and its
refusals reach Connect as FAILED with the reason.

The library calls these methods on its own threads (a command's handler
thread, a download's thread), one at a time; they call OctoPrint's
FileManager as OctoPrint's own API does (server/api/files.py).
"""
import base64
import logging
import os
import shutil
import struct
import urllib.parse

from prusaconnect.files import StorageProvider

LOCAL = "local"


class FileManagerStorage(StorageProvider):
    """``wrap_file(name, local_path)`` makes the file object
    FileManager.add_file() takes (octoprint.filemanager.util.DiskFileWrapper)."""

    def __init__(self, file_manager, octo_printer, wrap_file, name=LOCAL,
                 logger=None, data_folder=None):
        self.name = name
        self._files = file_manager
        self._printer = octo_printer
        self._wrap_file = wrap_file
        self._log = logger or logging.getLogger(__name__)
        # OctoPrint's data folder, where thumbnail plugins keep their images.
        self._data_folder = data_folder

    # ---- the tree
    def list(self):
        listing = self._files.list_files([LOCAL], recursive=True)
        return {"children": [_node(e) for e in listing.get(LOCAL, {}).values()]}

    def space(self):
        try:
            usage = shutil.disk_usage(self._files.path_on_disk(LOCAL, ""))
        except (OSError, ValueError):
            return {}
        return {"free_space": int(usage.free), "total_space": int(usage.total)}

    def metadata(self, path):
        if not self._files.file_exists(LOCAL, path):
            raise FileNotFoundError(f"File not found: /{self.name}/{path}")
        meta = self._files.get_metadata(LOCAL, path) or {}
        analysis = meta.get("analysis") or {}
        data = {}
        estimated = analysis.get("estimatedPrintTime")
        if isinstance(estimated, (int, float)):
            data["estimated printing time (normal mode)"] = format_duration(int(round(estimated)))
        tool0 = (analysis.get("filament") or {}).get("tool0") or {}
        if isinstance(tool0.get("length"), (int, float)):
            data["filament used [mm]"] = float(tool0["length"])
        if isinstance(tool0.get("volume"), (int, float)):
            data["filament used [cm3]"] = float(tool0["volume"])
        thumbnail = self._thumbnail(meta.get("thumbnail"))
        return {"data": data, "thumbnails": [thumbnail] if thumbnail else []}

    def _thumbnail(self, url):
        """The PNG a thumbnail plugin (e.g. Slicer Thumbnails) made of the file:
        its metadata says "plugin/<id>/thumbnail/<path>.png?<time>", the image
        lives in OctoPrint's data folder under <id>/<path>.png."""
        if not isinstance(url, str) or not self._data_folder:
            return None
        parts = urllib.parse.urlsplit(url.lstrip("/")).path.split("/", 3)
        if len(parts) != 4 or parts[0] != "plugin" or parts[2] != "thumbnail":
            return None
        root = os.path.realpath(os.path.join(self._data_folder, parts[1]))
        path = os.path.realpath(os.path.join(root, urllib.parse.unquote(parts[3])))
        if not path.startswith(root + os.sep):
            return None  # never outside the plugin's folder
        try:
            with open(path, "rb") as f:
                png = f.read(4 * 1024 * 1024 + 1)
        except OSError:
            return None
        if len(png) > 4 * 1024 * 1024 or len(png) < 24 or png[:8] != b"\x89PNG\r\n\x1a\n":
            return None
        width, height = struct.unpack(">II", png[16:24])
        return {"key": f"{width}x{height}_PNG", "width": width, "height": height,
                "format": "PNG", "data": base64.b64encode(png).decode()}

    # ---- file commands
    def create_folder(self, path):
        """Each missing folder, parents first (OctoPrint's add_folder makes
        one level; a file in the way is refused, which OctoPrint would not)."""
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            prefix = "/".join(parts[:i])
            if self._files.file_exists(LOCAL, prefix):
                raise FileExistsError(f"A file named /{self.name}/{prefix} exists")
            if not self._files.folder_exists(LOCAL, prefix):
                self._files.add_folder(LOCAL, prefix, ignore_existing=True)

    def delete_file(self, path):
        if not self._files.file_exists(LOCAL, path):
            raise FileNotFoundError(f"File not found: /{self.name}/{path}")
        self._refuse_if_printed(path)
        self._files.remove_file(LOCAL, path)

    def delete_folder(self, path, force):
        if not self._files.folder_exists(LOCAL, path):
            raise FileNotFoundError(f"Folder not found: /{self.name}/{path}")
        listing = self._files.list_files([LOCAL], path=path, recursive=True).get(LOCAL, {})
        if listing and not force:
            raise RuntimeError(f"Folder is not empty: /{self.name}/{path}")
        job = self._printed_path()
        if job is not None and (job + "/").startswith(path.rstrip("/") + "/"):
            raise RuntimeError(f"Folder holds the file being printed: /{self.name}/{job}")
        self._files.remove_folder(LOCAL, path, recursive=True)

    def store_file(self, path, local_file):
        """A finished download: added to OctoPrint's uploads (which starts
        OctoPrint's analysis and fires FileAdded)."""
        self._refuse_if_printed(path)
        folder, _, name = path.rpartition("/")
        if folder:
            self.create_folder(folder)
        self._files.add_file(LOCAL, path, self._wrap_file(name, local_file), allow_overwrite=True)

    # ---- helpers
    def _printed_path(self):
        """The local path of the job OctoPrint is running, or None."""
        if not (self._printer.is_printing() or self._printer.is_paused()
                or self._printer.is_pausing() or self._printer.is_cancelling()):
            return None
        job = (self._printer.get_current_job() or {}).get("file") or {}
        if job.get("origin") != LOCAL or not job.get("path"):
            return None
        return job["path"]

    def _refuse_if_printed(self, path):
        if self._printed_path() == path:
            raise RuntimeError(f"File is being printed: /{self.name}/{path}")


def _node(entry):
    node = {"name": entry.get("name") or entry.get("path", "").rpartition("/")[2]}
    if entry.get("type") == "folder":
        node["children"] = [_node(c) for c in (entry.get("children") or {}).values()]
    else:
        if isinstance(entry.get("size"), int):
            node["size"] = entry["size"]
    if isinstance(entry.get("date"), (int, float)):
        node["m_timestamp"] = int(entry["date"])
    return node


def format_duration(seconds: int) -> str:
    """"1h 2m 3s", gcode-metadata's format of estimated times."""
    seconds = max(0, seconds)
    d, h, m, s = seconds // 86400, seconds // 3600 % 24, seconds // 60 % 60, seconds % 60
    out = ""
    if d:
        out += f"{d}d "
    if d or h:
        out += f"{h}h "
    if d or h or m:
        out += f"{m}m "
    return out + f"{s}s"
