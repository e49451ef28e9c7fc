"""Stand-ins for the objects OctoPrint 1.10.3 injects into a plugin, so plugin tests run without OctoPrint.

Standard library only. Each class follows the real source (``src/octoprint/...`` of OctoPrint 1.10.3):

* ``Events``, ``all_events``: ``events.py`` ``Events`` (every constant, with its exact string).
* ``EventBus``: ``events.py`` ``EventManager.fire/subscribe/unsubscribe/_work``. It uses one worker thread, and
  calls the subscribers and then the plugin ``on_event`` handlers in firing order, like ``_work`` followed by
  ``call_plugin(EventHandlerPlugin, "on_event")``. Differences: there is no hold-back until ``Startup``, and
  ``join()`` waits until the queue is empty (the real ``join`` waits for shutdown).
* ``StandInPrinter``: ``printer/__init__.py`` ``PrinterInterface`` and ``printer/standard.py`` ``Printer``
  (``connect``, ``disconnect``, ``commands``, ``script``, ``select_file``, ``_validateJob``, ``_setJobData``,
  ``start_print``, ``pause_print``, ``resume_print``, ``cancel_print``, ``get_current_data``,
  ``get_current_temperatures``, ``_getStateFlags``, ``on_comm_state_change``, ``on_comm_file_selected``,
  ``on_comm_print_job_*``, ``on_comm_z_change``, ``_payload_for_print_job_event``,
  ``_reportPrintProgressToPlugins``, and ``StateMonitor.get_current_data``). It also covers the parts of
  ``util/comm.py`` ``MachineCom`` that these rely on: the ``STATE_*`` ids, ``getStateString``,
  ``OPERATIONAL_STATES``, ``PRINTING_STATES``, ``isBusy``, ``startPrint``, ``setPause``, ``cancelPrint``,
  ``_trigger_error``, ``_trigger_emergency_stop``, ``_onConnected``, ``parse_firmware_line`` and ``gcodeToEvent``.
  The printer it simulates is ``plugins/virtual_printer`` with its defaults: one tool, a heated bed, 21.3 °C
  ambient, ``FIRMWARE_NAME:Virtual Marlin 1.0 PROTOCOL_VERSION:1.0``. SD printing is not simulated.
  Note: like the real method, ``get_current_data()`` has no ``busyFiles``/``serverTime``/``temps``; those are
  added by ``server/util/sockjs.py`` for the push socket only.
* ``InvalidFileType``, ``InvalidFileLocation``, ``UnknownScript``: ``printer/__init__.py``.
* ``StandInFileManager``: ``filemanager/__init__.py`` ``FileManager`` on top of ``filemanager/storage.py``
  ``LocalFileStorage`` (``list_files``, ``_list_folder``, ``add_file``, ``add_folder``, ``remove_file``,
  ``remove_folder``, ``sanitize*``, ``canonicalize``, ``split_path``, ``join_path``,
  ``path_in_storage``, ``path_on_disk``, ``get_metadata``, ``set_additional_metadata``, ``_add_history``).
  ``StorageError`` and ``NoSuchStorage`` come from the same files. The metadata is kept in ``.metadata.json``
  files like the real storage. ``sanitize_name`` only approximates ``pathvalidate.sanitize_filename``.
  The G-code analysis is not run; a test sets it with ``set_analysis()``.
* ``AbstractFileWrapper``, ``DiskFileWrapper``, ``StreamWrapper``: ``filemanager/util.py``.
* ``StandInSettings``: ``plugin/__init__.py`` ``PluginSettings``, on top of ``settings/__init__.py``
  ``Settings.get/getInt/getFloat/getBoolean/set/remove/save`` (including the ``set`` rules for defaults).
  The global defaults come from ``schema/config/*`` and ``plugins/classicwebcam``. In 1.10 the webcam
  snapshot URL is at ``["plugins","classicwebcam","snapshot"]``. ``["webcam","snapshot"]`` and
  ``["webcam","stream"]`` still read through the deprecated compat overlay (``octoprint/__init__.py``
  ``init_webcam_compat_overlay``), and writes to them are refused.
* ``StandInPluginManager.send_plugin_message``: ``plugin/core.py`` ``PluginManager.send_plugin_message``.

Usage::

    env = make_plugin_env(tmp_path)          # bus, file manager, printer, settings, plugin manager
    plugin = env.inject(MyPlugin())          # sets _printer, _settings, ... and wires on_event/on_print_progress
    env.printer.connect()
    env.file_manager.add_file("local", "a.gcode", StreamWrapper("a.gcode", io.BytesIO(b"G28\n")))
    env.printer.select_file("a.gcode", False, printAfterSelect=True)
    env.printer.set_progress(100)
    env.event_bus.join()                     # every event has reached plugin.on_event
"""

import collections
import copy
import hashlib
import json
import logging
import math
import os
import queue
import re
import shutil
import sys
import tempfile
import threading
import time
import types

_log = logging.getLogger("octoprint_standins")
UMASK = os.umask(0)  # octoprint/__init__.py does the same to learn the umask
os.umask(UMASK)


class Events:
    STARTUP, SHUTDOWN, CONNECTIVITY_CHANGED = "Startup", "Shutdown", "ConnectivityChanged"
    CONNECTING, CONNECTED, DISCONNECTING, DISCONNECTED = "Connecting", "Connected", "Disconnecting", "Disconnected"
    CONNECTIONS_AUTOREFRESHED = "ConnectionsAutorefreshed"
    PRINTER_STATE_CHANGED, PRINTER_RESET = "PrinterStateChanged", "PrinterReset"
    CLIENT_OPENED, CLIENT_CLOSED = "ClientOpened", "ClientClosed"
    CLIENT_AUTHED, CLIENT_DEAUTHED = "ClientAuthed", "ClientDeauthed"
    USER_LOGGED_IN, USER_LOGGED_OUT = "UserLoggedIn", "UserLoggedOut"
    UPLOAD, FILE_SELECTED, FILE_DESELECTED, UPDATED_FILES = "Upload", "FileSelected", "FileDeselected", "UpdatedFiles"
    METADATA_ANALYSIS_STARTED, METADATA_ANALYSIS_FINISHED = "MetadataAnalysisStarted", "MetadataAnalysisFinished"
    METADATA_STATISTICS_UPDATED = "MetadataStatisticsUpdated"
    FILE_ADDED, FILE_REMOVED, FILE_MOVED = "FileAdded", "FileRemoved", "FileMoved"
    FOLDER_ADDED, FOLDER_REMOVED, FOLDER_MOVED = "FolderAdded", "FolderRemoved", "FolderMoved"
    TRANSFER_STARTED, TRANSFER_DONE, TRANSFER_FAILED = "TransferStarted", "TransferDone", "TransferFailed"
    PRINT_STARTED, PRINT_DONE, PRINT_FAILED = "PrintStarted", "PrintDone", "PrintFailed"
    PRINT_CANCELLING, PRINT_CANCELLED = "PrintCancelling", "PrintCancelled"
    PRINT_PAUSED, PRINT_RESUMED, ERROR, CHART_MARKED = "PrintPaused", "PrintResumed", "Error", "ChartMarked"
    POWER_ON, POWER_OFF, HOME, Z_CHANGE, WAITING = "PowerOn", "PowerOff", "Home", "ZChange", "Waiting"
    DWELL, COOLING, ALERT, CONVEYOR, EJECT, E_STOP = "Dwelling", "Cooling", "Alert", "Conveyor", "Eject", "EStop"
    POSITION_UPDATE, FIRMWARE_DATA, TOOL_CHANGE = "PositionUpdate", "FirmwareData", "ToolChange"
    REGISTERED_MESSAGE_RECEIVED, COMMAND_SUPPRESSED = "RegisteredMessageReceived", "CommandSuppressed"
    INVALID_TOOL_REPORTED, FILAMENT_CHANGE = "InvalidToolReported", "FilamentChange"
    CAPTURE_START, CAPTURE_DONE, CAPTURE_FAILED = "CaptureStart", "CaptureDone", "CaptureFailed"
    POSTROLL_START, POSTROLL_END = "PostRollStart", "PostRollEnd"
    MOVIE_RENDERING, MOVIE_DONE, MOVIE_FAILED = "MovieRendering", "MovieDone", "MovieFailed"
    SLICING_STARTED, SLICING_DONE, SLICING_FAILED = "SlicingStarted", "SlicingDone", "SlicingFailed"
    SLICING_CANCELLED, SLICING_PROFILE_ADDED = "SlicingCancelled", "SlicingProfileAdded"
    SLICING_PROFILE_MODIFIED, SLICING_PROFILE_DELETED = "SlicingProfileModified", "SlicingProfileDeleted"
    PRINTER_PROFILE_ADDED, PRINTER_PROFILE_MODIFIED = "PrinterProfileAdded", "PrinterProfileModified"
    PRINTER_PROFILE_DELETED, SETTINGS_UPDATED = "PrinterProfileDeleted", "SettingsUpdated"

    @classmethod
    def register_event(cls, event, prefix=None):
        name = re.sub("([a-z0-9])([A-Z])", r"\1_\2", re.sub("([^_])([A-Z][a-z]+)", r"\1_\2", event)).upper()
        if prefix:
            event, name = prefix + event, Events.register_event(prefix)[0] + name
        setattr(cls, name, event)
        return name, event


def all_events():
    return [getattr(Events, n) for n in Events.__dict__ if not n.startswith("_") and n != "register_event"]


# gcode -> event fired when the command is sent (util/comm.py gcodeToEvent)
GCODE_TO_EVENT = {"M226": Events.WAITING, "M0": Events.WAITING, "M1": Events.WAITING, "G4": Events.DWELL,
                  "M245": Events.COOLING, "M240": Events.CONVEYOR, "M40": Events.EJECT, "M300": Events.ALERT,
                  "G28": Events.HOME, "M112": Events.E_STOP, "M80": Events.POWER_ON, "M81": Events.POWER_OFF,
                  "M600": Events.FILAMENT_CHANGE, "M701": Events.FILAMENT_CHANGE, "M702": Events.FILAMENT_CHANGE}


class UnknownScript(Exception):
    def __init__(self, name, *args, **kwargs):
        self.name = name


class InvalidFileLocation(Exception):
    pass


class InvalidFileType(Exception):
    pass


class NoSuchStorage(Exception):
    pass


class NoSuchSettingsPath(Exception):
    pass


class StorageError(Exception):
    UNKNOWN, INVALID_DIRECTORY, INVALID_FILE = "unknown", "invalid_directory", "invalid_file"
    INVALID_SOURCE, INVALID_DESTINATION = "invalid_source", "invalid_destination"
    DOES_NOT_EXIST, ALREADY_EXISTS = "does_not_exist", "already_exists"
    SOURCE_EQUALS_DESTINATION, NOT_EMPTY = "source_equals_destination", "not_empty"

    def __init__(self, message, code=None, cause=None):
        Exception.__init__(self, message)
        self.cause = cause
        self.code = StorageError.UNKNOWN if code is None else code


_RESERVED_NAMES = {"CON", "PRN", "AUX", "CLOCK$", "NUL"} | {f"{p}{i}" for p in ("COM", "LPT") for i in range(1, 10)}
EXTENSION_TREE = {"machinecode": {"gcode": ["gcode", "gco", "g"]}}  # filemanager full_extension_tree() core part


def get_file_type(filename):
    ext = os.path.splitext(filename)[1][1:].lower()
    for kind, sub in EXTENSION_TREE.items():
        for name, exts in sub.items():
            if ext in exts:
                return [kind, name]
    return None


def valid_file_type(filename, type=None):
    path = get_file_type(filename)
    return path is not None and (type is None or type in path)


def parse_firmware_line(line):
    """util/comm.py parse_firmware_line: {KEY: value} of an M115 reply line."""
    parts = re.split(r"(^|\s+)([A-Z][A-Z0-9_]*):", line.strip())[1:]
    return {parts[i + 1]: parts[i + 2].strip() for i in range(0, len(parts), 3)}


# ----------------------------------------------------------------------------------------------- event bus
class EventBus:
    """``fire``, ``subscribe`` and ``unsubscribe`` as in EventManager, plus ``add_handler(fn)`` for plugin ``on_event``.

    Everything is delivered on one daemon thread called "StandInEventBus", in firing order. An exception in a
    callback is logged and stored in ``errors`` as (event, payload, callback, exc), and delivery goes on.
    ``fired`` lists every (event, payload) in firing order. ``names()`` and ``payloads(event)`` help assertions.
    """

    def __init__(self):
        self._listeners = collections.defaultdict(list)
        self._handlers, self.fired, self.delivered, self.errors = [], [], [], []
        self._queue, self._lock = queue.Queue(), threading.Lock()
        self._worker = threading.Thread(target=self._work, name="StandInEventBus", daemon=True)
        self._worker.start()

    def _work(self):
        while True:
            item = self._queue.get()
            if item is None:  # close()
                self._queue.task_done()
                return
            event, payload = item
            try:
                for callback in list(self._listeners[event]) + list(self._handlers):
                    try:
                        callback(event, payload)
                    except Exception as exc:
                        _log.exception("Got an exception while sending event %s (Payload: %r) to %r",
                                       event, payload, callback)
                        self.errors.append((event, payload, callback, exc))
                self.delivered.append((event, payload))
            finally:
                self._queue.task_done()

    def fire(self, event, payload=None):
        with self._lock:
            self.fired.append((event, payload))
            self._queue.put((event, payload))

    def subscribe(self, event, callback):
        if callback not in self._listeners[event]:
            self._listeners[event].append(callback)

    def unsubscribe(self, event, callback):
        if callback in self._listeners[event]:
            self._listeners[event].remove(callback)

    def add_handler(self, fn):
        """Register fn(event, payload), called for EVERY event (how the plugin's on_event is wired)."""
        if fn not in self._handlers:
            self._handlers.append(fn)

    def remove_handler(self, fn):
        if fn in self._handlers:
            self._handlers.remove(fn)

    def join(self, timeout=None):
        """Block until every fired event was delivered. Return True when drained, False on timeout."""
        if threading.current_thread() is self._worker:
            raise RuntimeError("EventBus.join() called from the event thread")
        end = None if timeout is None else time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._queue.all_tasks_done.wait(left)
        return True

    def close(self, timeout=5):
        """Stop the worker thread after the queued events were delivered."""
        self._queue.put(None)
        self._worker.join(timeout)

    def names(self):
        return [e for e, _ in self.fired]

    def payloads(self, event):
        return [p for e, p in self.fired if e == event]

    def clear(self):
        with self._lock:
            self.fired.clear()
            self.delivered.clear()
            self.errors.clear()


# ----------------------------------------------------------------------------------------------- file wrappers
class AbstractFileWrapper:
    DEFAULT_PERMISSIONS = 0o664

    def __init__(self, filename):
        self.filename = filename

    def save(self, path, permissions=None):
        raise NotImplementedError()

    def stream(self):
        raise NotImplementedError()


class DiskFileWrapper(AbstractFileWrapper):
    def __init__(self, filename, path, move=True):
        AbstractFileWrapper.__init__(self, filename)
        self.path, self.move = path, move

    def save(self, path, permissions=None):
        (shutil.move if self.move else shutil.copy2)(self.path, path)
        os.chmod(path, self.DEFAULT_PERMISSIONS & ~UMASK if permissions is None else permissions)

    def stream(self):
        return open(self.path, "rb")


class StreamWrapper(AbstractFileWrapper):
    def __init__(self, filename, *streams):
        if not len(streams) > 0:
            raise ValueError("Need at least one stream to wrap")
        AbstractFileWrapper.__init__(self, filename)
        self.streams = streams

    def save(self, path, permissions=None):
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")  # atomic_write
        with os.fdopen(fd, "wb") as dest:
            for source in self.streams:
                shutil.copyfileobj(source, dest)
        os.replace(tmp, path)
        os.chmod(path, self.DEFAULT_PERMISSIONS & ~UMASK if permissions is None else permissions)

    def stream(self):
        if len(self.streams) == 1:
            return self.streams[0]
        import io  # the real code returns a MultiStream; a concatenated BytesIO reads the same
        return io.BytesIO(b"".join(s.read() for s in self.streams))


# ----------------------------------------------------------------------------------------------- file manager
class StandInFileManager:
    """A FileManager with one storage, ``"local"`` (a LocalFileStorage rooted at ``basefolder``).

    What the real one does, kept here: ``list_files(recursive=None)`` strips subfolder children, like the
    real default. ``remove_file`` and ``remove_folder`` of a missing path return quietly and still fire
    events. The printed file is NOT protected: the REST API refuses to change it (``printer.can_modify_file``
    -> 409), but FileManager does not. ``get_additional_metadata`` always returns None (a real
    bug). Not provided: copy/move of files and folders, slicing, links other than "web".
    """

    def __init__(self, basefolder, event_bus=None, create=True):
        self.basefolder = os.path.realpath(os.path.abspath(basefolder))
        if create and not os.path.exists(self.basefolder):
            os.makedirs(self.basefolder)
        if not os.path.isdir(self.basefolder):
            raise StorageError(f"{basefolder} is not a valid directory", code=StorageError.INVALID_DIRECTORY)
        self._bus, self._lock, self._recovery = event_bus, threading.RLock(), None

    def _fire(self, event, payload):
        if self._bus is not None:
            self._bus.fire(event, payload)

    def _st(self, location):
        if location != "local":
            raise NoSuchStorage(f"No storage configured for destination {location}")

    # -- path helpers (LocalFileStorage) --
    def _sanitize_name(self, name):
        if name is None:
            return None
        if "/" in name or "\\" in name:
            raise ValueError("name must not contain / or \\")
        name = re.sub(r'[\x00-\x1f\x7f"*:<>?|]', "", name)[:255]
        stem, ext = os.path.splitext(name)
        if stem.upper() in _RESERVED_NAMES:
            name = stem + "_" + ext
        return (name.rstrip(" .") if name not in (".", "..") else name).lstrip(".")

    def _path_in_storage(self, path):
        if isinstance(path, (tuple, list)):
            path = self._join_path(*path)
        if path.startswith(self.basefolder):
            path = path[len(self.basefolder):]
        return path.replace(os.path.sep, "/").lstrip("/")

    def _join_path(self, *path):
        return self._path_in_storage("/".join(path))

    def _canonicalize(self, path):
        name = None
        if isinstance(path, str):
            if path.startswith(self.basefolder):
                path = path[len(self.basefolder):]
            path = path.replace(os.path.sep, "/").split("/")
        if isinstance(path, (list, tuple)):
            name, path = (path[0], "") if len(path) == 1 else (path[-1], self._join_path(*path[:-1]))
        return path or "", name

    def _sanitize_path(self, path):
        path = path[1:] if path.startswith("/") else path[2:] if path.startswith("./") else path
        joined = self.basefolder
        for element in path.split("/"):
            joined = os.path.join(joined, element if element in ("..", ".") else self._sanitize_name(element))
        path = os.path.realpath(joined)
        if not path.startswith(self.basefolder):
            raise ValueError(f"path not contained in base folder: {path}")
        return path

    def _sanitize(self, path):
        folder, name = self._canonicalize(path)
        return self._sanitize_path(folder), self._sanitize_name(name)

    def _split_path(self, path):
        split = path.split("/")
        return ("", split[0]) if len(split) == 1 else (self._path_in_storage(self._join_path(*split[:-1])), split[-1])

    def sanitize(self, location, path): self._st(location); return self._sanitize(path)  # noqa: E704,E702
    def sanitize_name(self, location, name): self._st(location); return self._sanitize_name(name)  # noqa: E704,E702
    def sanitize_path(self, location, path): self._st(location); return self._sanitize_path(path)  # noqa: E704,E702
    def canonicalize(self, location, path): self._st(location); return self._canonicalize(path)  # noqa: E704,E702
    def split_path(self, location, path): self._st(location); return self._split_path(path)  # noqa: E704,E702
    def join_path(self, location, *path): self._st(location); return self._join_path(*path)  # noqa: E704,E702
    def path_in_storage(self, location, path): self._st(location); return self._path_in_storage(path)  # noqa: E704,E702

    def path_on_disk(self, location, path):
        self._st(location)
        return os.path.join(*self._sanitize(path))

    # -- metadata (.metadata.json per folder) --
    def _meta(self, folder):
        try:
            with open(os.path.join(folder, ".metadata.json"), encoding="utf-8") as f:
                meta = json.load(f)
        except (OSError, ValueError):
            return {}
        if not isinstance(meta, dict):
            return {}
        return {k: v for k, v in meta.items() if os.path.exists(os.path.join(folder, k))}

    def _save_meta(self, folder, meta):
        target = os.path.join(folder, ".metadata.json")
        with open(target + ".tmp", "w", encoding="utf-8") as f:
            json.dump(meta, f, indent=2, separators=(",", ": "))
        os.replace(target + ".tmp", target)

    def _update_meta(self, folder, name, fn):
        with self._lock:
            meta = self._meta(folder)
            result = fn(meta)
            self._save_meta(folder, meta)
            return result

    @staticmethod
    def _hash(path):
        sha = hashlib.sha1()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(65536), b""):
                sha.update(block)
        return sha.hexdigest()

    # -- listing --
    def _list_folder(self, folder, base=""):
        meta, dirty, result = self._meta(folder), False, {}
        for entry in os.scandir(folder):
            name, path = entry.name, base + entry.name
            if name.startswith("."):
                continue
            st = entry.stat()
            if entry.is_file():
                type_path = get_file_type(name)
                if not type_path:
                    continue
                em = meta.get(name)
                if not isinstance(em, dict):  # first sight: real returns basic metadata but persists {}
                    em, meta[name], dirty = {"hash": self._hash(entry.path), "links": [], "notes": []}, {}, True
                data = dict(em, name=name, display=em.get("display", name), path=path,
                            type=type_path[0], typePath=type_path, size=st.st_size, date=int(st.st_mtime))
            elif entry.is_dir():
                em = meta.get(name) if isinstance(meta.get(name), dict) else {}
                children = self._list_folder(entry.path, path + "/")
                data = {"name": name, "display": em.get("display", name), "path": path, "type": "folder",
                        "typePath": ["folder"], "date": int(st.st_mtime), "children": children,
                        "size": sum(c["size"] for c in children.values() if "size" in c)}
            else:
                continue
            result[name] = copy.deepcopy(data)
        if dirty:
            self._save_meta(folder, meta)
        return result

    def list_files(self, locations=None, path=None, filter=None, recursive=None, level=0, force_refresh=False):
        locations = [locations] if isinstance(locations, str) else (locations or ["local"])
        result = {}
        for loc in locations:
            if loc != "local":
                raise KeyError(loc)  # FileManager indexes self._storage_managers[loc]
            with self._lock:
                if path:
                    folder = self._sanitize_path(path)
                    base = self._path_in_storage(folder)
                    base = base + "/" if base else ""
                else:
                    folder, base = self.basefolder, ""
                nodes = self._list_folder(folder, base)
            if not recursive:
                nodes = _strip_children(nodes, 1 if level > 0 else 0)
            if callable(filter):
                nodes = _apply_filter(nodes, filter)
            result[loc] = nodes
        return result

    def file_exists(self, destination, path):
        self._st(destination)
        return os.path.isfile(os.path.join(*self._sanitize(path)))

    def folder_exists(self, destination, path):
        self._st(destination)
        return os.path.isdir(os.path.join(*self._sanitize(path)))

    def file_in_path(self, destination, path, file):
        self._st(destination)
        file, path = self._sanitize_path(file), self._sanitize_path(path)
        return file == path or file.startswith(path + os.sep)

    def get_busy_files(self):
        return {}.keys()  # FileManager: self._slicing_jobs.keys()

    # -- files --
    def add_file(self, location, path, file_object, links=None, allow_overwrite=False, printer_profile=None,
                 analysis=None, display=None):
        self._st(location)
        with self._lock:
            display_path, display_name = self._canonicalize(self._path_in_storage(path))
            folder, name = self._sanitize_path(display_path), self._sanitize_name(display_name)
            display_name = display or display_name
            if not valid_file_type(name):
                raise StorageError(f"{name} is an unrecognized file type", code=StorageError.INVALID_FILE)
            file_path = os.path.join(folder, name)
            if os.path.exists(file_path) and not os.path.isfile(file_path):
                raise StorageError(f"{name} does already exist in {folder} and is not a file",
                                   code=StorageError.ALREADY_EXISTS)
            if os.path.exists(file_path) and not allow_overwrite:
                raise StorageError(f"{name} does already exist in {folder} and overwriting is prohibited",
                                   code=StorageError.ALREADY_EXISTS)
            os.makedirs(folder, exist_ok=True)
            file_object.save(file_path)
            file_hash = self._hash(file_path)

            def update(meta):
                entry = meta.get(name) or {}
                if entry.get("hash") != file_hash:
                    entry = {"hash": file_hash}  # content changed -> old metadata (analysis...) is dropped
                if "display" not in entry and display_name != name:
                    entry["display"] = display_name
                for rel, data in links or []:  # storage._add_links: only "web" links (model links not supported)
                    if rel == "web" and "href" in data:
                        entry.setdefault("links", []).append({"rel": "web", "href": data["href"],
                                               **({"retrieved": data["retrieved"]} if "retrieved" in data else {})})
                meta[name] = entry
            self._update_meta(folder, name, update)
            os.utime(file_path, None)
            path_in_storage = self._path_in_storage((folder, name))
        self._fire(Events.FILE_ADDED, {"storage": location, "path": path_in_storage, "name": name,
                                       "type": get_file_type(name), "operation": "add"})
        self._fire(Events.UPDATED_FILES, {"type": "printables"})
        if isinstance(analysis, dict):
            self._store_analysis(location, path_in_storage, analysis)
        return path_in_storage

    def remove_file(self, location, path):
        self._st(location)
        with self._lock:
            path_in_storage = self._path_in_storage(path)
            folder, name = self._sanitize(path_in_storage)
            file_path = os.path.join(folder, name)
            if os.path.exists(file_path):
                if not os.path.isfile(file_path):
                    raise StorageError(f"{name} in {folder} is not a file", code=StorageError.INVALID_FILE)
                try:
                    os.remove(file_path)
                except Exception as e:
                    raise StorageError(f"Could not delete {name} in {folder}", cause=e)
                self._update_meta(folder, name, lambda meta: meta.pop(name, None))
        name = self._split_path(path_in_storage)[1]
        self._fire(Events.FILE_REMOVED, {"storage": location, "path": path, "name": name,
                                         "type": get_file_type(name), "operation": "remove"})
        self._fire(Events.UPDATED_FILES, {"type": "printables"})

    # -- folders --
    def add_folder(self, location, path, ignore_existing=True, display=None):
        self._st(location)
        with self._lock:
            display_path, display_name = self._canonicalize(path)
            folder, name = self._sanitize_path(display_path), self._sanitize_name(display_name)
            display_name = display if display is not None else display_name
            if os.path.exists(os.path.join(folder, name)):
                if not ignore_existing:
                    raise StorageError(f"{name} does already exist in {folder}", code=StorageError.ALREADY_EXISTS)
            else:
                os.mkdir(os.path.join(folder, name))
            if display_name != name:
                self._update_meta(folder, name,
                                  lambda m: m.__setitem__(name, dict(m.get(name, {}), display=display_name)))
            path_in_storage = self._path_in_storage((folder, name))
        self._fire(Events.FOLDER_ADDED, {"storage": location, "path": path_in_storage, "name": name})
        self._fire(Events.UPDATED_FILES, {"type": "printables"})
        return path_in_storage

    def remove_folder(self, location, path, recursive=True):
        self._st(location)
        with self._lock:
            path_in_storage = self._path_in_storage(path)
            folder, name = self._sanitize(path_in_storage)
            full = os.path.join(folder, name)
            if os.path.exists(full):
                if not recursive and any(e.name not in (".metadata.json", ".metadata.yaml") for e in os.scandir(full)):
                    raise StorageError(f"{name} in {folder} is not empty", code=StorageError.NOT_EMPTY)
                shutil.rmtree(full)
                self._update_meta(folder, name, lambda meta: meta.pop(name, None))
        self._fire(Events.FOLDER_REMOVED, {"storage": location, "path": path_in_storage,
                                           "name": self._split_path(path_in_storage)[1]})
        self._fire(Events.UPDATED_FILES, {"type": "printables"})

    # -- metadata API --
    def get_size(self, location, path):
        try:
            self._st(location)
            full = os.path.join(*self._sanitize(path))  # a folder: its direct files, .metadata.json included
            if os.path.isfile(full):
                return os.stat(full).st_size
            return sum(e.stat().st_size for e in os.scandir(full) if e.is_file())
        except Exception:
            return -1

    def get_lastmodified(self, location, path):
        try:
            self._st(location)
            return int(os.stat(os.path.join(*self._sanitize(path))).st_mtime)
        except Exception:
            return -1

    def get_metadata(self, location, path):
        self._st(location)
        folder, name = self._sanitize(path)
        return self._meta(folder).get(name)

    def has_analysis(self, location, path):
        return "analysis" in self.get_metadata(location, path)

    def get_additional_metadata(self, location, path, key):
        self._st(location)  # real FileManager forgets to return the storage's value

    def set_additional_metadata(self, location, path, key, data, overwrite=False, merge=False):
        self._st(location)
        folder, name = self._sanitize(path)

        def update(meta):
            if name not in meta:
                return
            if key not in meta[name] or overwrite:
                meta[name][key] = data
            elif merge and isinstance(meta[name][key], dict) and isinstance(data, dict):
                meta[name][key] = _dict_merge(meta[name][key], data)
        self._update_meta(folder, name, update)

    def remove_additional_metadata(self, location, path, key):
        self._st(location)
        folder, name = self._sanitize(path)
        self._update_meta(folder, name, lambda meta: meta.get(name, {}).pop(key, None))

    def log_print(self, location, path, timestamp, print_time, success, printer_profile):
        self._st(location)
        folder, name = self._sanitize(path)
        entry = {"timestamp": timestamp, "success": success, "printerProfile": printer_profile}
        if success:
            entry["printTime"] = print_time

        def update(meta):  # storage._add_history + _calculate_stats_from_history
            if not os.path.isfile(os.path.join(folder, name)):
                return
            m = meta.setdefault(name, {})
            m.setdefault("hash", self._hash(os.path.join(folder, name)))
            m.setdefault("history", []).append(entry)
            stats, times, last = {"averagePrintTime": {}, "lastPrintTime": {}}, {}, {}
            for h in m["history"]:
                if h.get("success") and "printTime" in h and h.get("printerProfile"):
                    times.setdefault(h["printerProfile"], []).append(float(h["printTime"]))
                    if h["printerProfile"] not in last or h["timestamp"] > last[h["printerProfile"]]["timestamp"]:
                        last[h["printerProfile"]] = h
            for prof, values in times.items():
                stats["averagePrintTime"][prof] = sum(values) / len(values)
                stats["lastPrintTime"][prof] = last[prof]["printTime"]
            m["statistics"] = stats
        self._update_meta(folder, name, update)
        self._fire(Events.METADATA_STATISTICS_UPDATED, {"storage": location, "path": path})

    def save_recovery_data(self, location, path, pos):
        self._recovery = {"origin": location, "path": self.path_in_storage(location, path), "pos": pos,
                          "date": time.time()}

    def get_recovery_data(self):
        return copy.deepcopy(self._recovery)

    def delete_recovery_data(self):
        self._recovery = None

    # -- test helpers --
    def _store_analysis(self, location, path, result):
        name = self._split_path(self._path_in_storage(path))[1]
        payload = {"name": name, "path": self._path_in_storage(path), "origin": location}
        self._fire(Events.METADATA_ANALYSIS_STARTED, dict(payload, type="gcode"))
        self.set_additional_metadata(location, path, "analysis", result, overwrite=True)
        self._fire(Events.METADATA_ANALYSIS_FINISHED, dict(payload, result=result))

    def set_analysis(self, path, estimatedPrintTime=None, filament_mm=None, location="local", **extra):
        """Store a G-code analysis result as the analysis queue would, firing MetadataAnalysisStarted/Finished.

        filament_mm is either a number (tool0) or {"tool0": mm, ...}. The volume in cm³ assumes 1.75 mm
        filament. Extra keys (dimensions, printingArea...) are copied into the result unchanged.
        """
        result = dict(extra)
        if estimatedPrintTime is not None:
            result["estimatedPrintTime"] = estimatedPrintTime
        if filament_mm is not None:
            tools = filament_mm if isinstance(filament_mm, dict) else {"tool0": filament_mm}
            result["filament"] = {t: {"length": mm, "volume": mm / 10 * math.pi * 0.0875 ** 2}
                                  for t, mm in tools.items()}
        self._store_analysis(location, path, result)
        return result


def _strip_children(nodes, depth):
    return {k: dict(n, children={} if depth == 0 else _strip_children(n["children"], 0)) if n["type"] == "folder" else n
            for k, n in nodes.items()}


def _apply_filter(nodes, fn):
    return {k: dict(n, children=_apply_filter(n.get("children", {}), fn)) if n["type"] == "folder" else n
            for k, n in nodes.items() if n["type"] == "folder" or fn(n)}


def _dict_merge(a, b):
    result = copy.deepcopy(a)
    for k, v in b.items():
        both_dicts = isinstance(v, dict) and isinstance(result.get(k), dict)
        result[k] = _dict_merge(result[k], v) if both_dicts else copy.deepcopy(v)
    return result


# ----------------------------------------------------------------------------------------------- printer
_STATE_TEXT = {"OPEN_SERIAL": "Opening serial connection", "DETECT_SERIAL": "Detecting serial connection",
               "CONNECTING": "Connecting", "OPERATIONAL": "Operational", "STARTING": "Starting",
               "PRINTING": "Printing", "CANCELLING": "Cancelling", "PAUSING": "Pausing", "PAUSED": "Paused",
               "RESUMING": "Resuming", "FINISHING": "Finishing", "CLOSED": "Offline", "ERROR": "Error",
               "CLOSED_WITH_ERROR": "Offline after error", "TRANSFERING_FILE": "Transferring file to SD"}
_OPERATIONAL = {"PRINTING", "STARTING", "OPERATIONAL", "PAUSED", "CANCELLING", "PAUSING", "RESUMING", "FINISHING",
                "TRANSFERING_FILE"}
_PRINTING = {"STARTING", "PRINTING", "CANCELLING", "PAUSING", "RESUMING", "FINISHING"}
_EMPTY_PROGRESS = dict.fromkeys(("completion", "filepos", "printTime", "printTimeLeft", "printTimeLeftOrigin"))
_ERROR_FAQS = {"mintemp": ("mintemp",), "maxtemp": ("maxtemp",), "thermal-runaway": ("runaway",),
               "heating-failed": ("heating failed",),
               "probing-failed": ("probing failed", "bed leveling", "reference point", "bltouch")}
DEFAULT_PRINTER_PROFILE = {
    "id": "_default", "name": "Default", "model": "Generic RepRap Printer", "color": "default",
    "volume": {"width": 200, "depth": 200, "height": 200, "formFactor": "rectangular", "origin": "lowerleft",
               "custom_box": False},
    "heatedBed": True, "heatedChamber": False,
    "extruder": {"count": 1, "offsets": [(0, 0)], "nozzleDiameter": 0.4, "sharedNozzle": False,
                 "defaultExtrusionLength": 5},
    "axes": {a: {"speed": s, "inverted": False} for a, s in (("x", 6000), ("y", 6000), ("z", 200), ("e", 300))}}


class StandInPrinter:
    """The Printer as a plugin sees it, simulating OctoPrint's virtual printer.

    Test controls: ``set_temps(tool0=(actual, target), bed=(...))``, ``tick(seconds)``,
    ``set_progress(completion, print_time=None, print_time_left=None, z="auto")`` (completion 100 -> PrintDone)
    and ``simulate_error(error, reason="firmware", close=True)``. With ``auto_complete = False``, pause and
    cancel stop in Pausing or Cancelling until ``complete_transition()``, the moment the real printer
    answers M114. ``add_progress_plugin(p)`` makes ``p.on_print_progress(storage, path, int)`` be called, on
    its own thread, which is joined before returning. The printer records ``sent_commands`` (strings) and
    ``sent_command_tags``. It also reacts to M104/M109/M140/M190 (targets), G0/G1 Z (ZChange), M115
    (FirmwareData), M112 (emergency stop) and the gcodeToEvent codes.

    Event order follows standard.py and comm.py. Where the real code leaves it to threads
    (PrintFailed, PositionUpdate, the final Operational), this stand-in uses one fixed order. In real
    OctoPrint the PrintCancelled payload is the same dict that later receives ``reason``; here it is a copy.
    """

    valid_axes = ("x", "y", "z", "e")
    valid_tool_regex = re.compile(r"^(tool\d+)$")
    valid_heater_regex = re.compile(r"^(tool\d+|bed|chamber)$")

    def __init__(self, file_manager, event_bus,
                 firmware_line="FIRMWARE_NAME:Virtual Marlin 1.0 PROTOCOL_VERSION:1.0", ambient=21.3):
        self._fm, self._bus, self._lock = file_manager, event_bus, threading.RLock()
        self._state, self._state_text, self._error, self._error_string = None, "Offline", "", ""
        self._port = self._baudrate = self._firmware_info = self._error_info = self._selected = None
        self._job = {"file": dict.fromkeys(("name", "path", "size", "origin", "date")), "estimatedPrintTime": None,
                     "lastPrintTime": None, "filament": {"length": None, "volume": None}, "user": None}
        self._progress, self._resends = dict(_EMPTY_PROGRESS), {"count": 0, "ratio": 0}
        self._current_z = self._fraction = self._started_at = self._paused_at = None
        self._pause_lost, self._print_time_override, self._print_time_left = 0.0, None, None
        self._ambient, self._temps, self._temp_history = ambient, {"tool0": [ambient, 0.0], "bed": [ambient, 0.0]}, []
        self._sd_ready, self._last_progress_report, self._pending = False, None, None
        self._progress_plugins, self._callbacks, self.callback_errors = [], [], []
        self.sent_commands, self.sent_command_tags = [], []
        self.firmware_line, self.auto_complete = firmware_line, True
        self.gcode_scripts = {"afterPrintCancelled": ["M84", "M104 T0 S0", "M140 S0", "M106 S0"]}  # default config
        event_bus.subscribe(Events.METADATA_ANALYSIS_FINISHED, self._on_metadata_changed)
        event_bus.subscribe(Events.METADATA_STATISTICS_UPDATED, self._on_metadata_changed)

    # -- state --
    def get_state_id(self, state=None, *args, **kwargs):
        return "OFFLINE" if self._state is None else (state or self._state)

    def get_state_string(self, state=None, *args, **kwargs):
        return "Offline" if self._state is None else _STATE_TEXT[state or self._state]

    def get_error(self):
        return "" if self._state is None else self._error

    def is_closed_or_error(self, *a, **kw): return self._state in (None, "ERROR", "CLOSED", "CLOSED_WITH_ERROR")  # noqa
    def is_operational(self, *a, **kw): return self._state in _OPERATIONAL  # noqa: E704
    def is_printing(self, *a, **kw): return self._state in _PRINTING  # noqa: E704
    def is_cancelling(self, *a, **kw): return self._state == "CANCELLING"  # noqa: E704
    def is_pausing(self, *a, **kw): return self._state == "PAUSING"  # noqa: E704
    def is_paused(self, *a, **kw): return self._state == "PAUSED"  # noqa: E704
    def is_resuming(self, *a, **kw): return self._state == "RESUMING"  # noqa: E704
    def is_finishing(self, *a, **kw): return self._state == "FINISHING"  # noqa: E704
    def is_error(self, *a, **kw): return self._state in ("ERROR", "CLOSED_WITH_ERROR")  # noqa: E704
    def is_ready(self, *a, **kw): return self.is_operational() and not self._busy()  # noqa: E704
    def is_sd_ready(self, *a, **kw): return self._state is not None and self._sd_ready  # noqa: E704

    def _busy(self):  # MachineCom.isBusy
        return self._state in _PRINTING or self._state in ("PAUSED", "CANCELLING", "PAUSING")

    @property
    def firmware_info(self):  # real: frozendict({"name", "data"}) or None
        return copy.deepcopy(self._firmware_info) if self._firmware_info else None

    @property
    def error_info(self):  # real: ErrorInformation.dict() or None
        return copy.deepcopy(self._error_info)

    def _flags(self):
        return dict(operational=self.is_operational(), printing=self.is_printing(), cancelling=self.is_cancelling(),
                    pausing=self.is_pausing(), resuming=self.is_resuming(), finishing=self.is_finishing(),
                    closedOrError=self.is_closed_or_error(), error=self.is_error(), paused=self.is_paused(),
                    ready=self.is_ready(), sdReady=self.is_sd_ready())

    def get_current_data(self, *args, **kwargs):
        with self._lock:
            state = {"text": self._state_text, "flags": self._flags(), "error": self._error_string}
            return copy.deepcopy({"state": state, "job": self._job, "currentZ": self._current_z,
                                  "progress": self._progress, "offsets": {}, "resends": self._resends})

    def get_current_job(self, *args, **kwargs):
        with self._lock:
            return copy.deepcopy(self._job)

    def get_current_temperatures(self, *args, **kwargs):
        with self._lock:
            if self._state is None:
                return {}
            return {k: {"actual": a, "target": t, "offset": 0} for k, (a, t) in self._temps.items()}

    def get_temperature_history(self, *args, **kwargs):
        return copy.deepcopy(self._temp_history)

    def get_current_connection(self, *args, **kwargs):
        if self._state is None:
            return "Closed", None, None, None
        return self.get_state_string(), self._port, self._baudrate, copy.deepcopy(DEFAULT_PRINTER_PROFILE)

    @classmethod
    def get_connection_options(cls, *args, **kwargs):
        return {"ports": ["VIRTUAL"], "baudrates": [250000, 230400, 115200, 57600, 38400, 19200, 9600],
                "portPreference": None, "baudratePreference": None, "autoconnect": False}

    def get_transport(self, *args, **kwargs):
        return None

    def get_sd_files(self, *args, **kwargs):
        return []  # SD card contents are not simulated

    def is_current_file(self, path, sd, *args, **kwargs):
        f = self.get_current_job().get("file", {})
        return f.get("path") is not None and path == f["path"] and sd == (f.get("origin") == "sdcard")

    def can_modify_file(self, path, sd, *args, **kwargs):
        return not (self.is_current_file(path, sd) and (self.is_printing() or self.is_paused()))

    # -- internals --
    def _fire(self, event, payload=None):
        self._bus.fire(event, payload)

    def _change_state(self, new):  # MachineCom._changeState + Printer.on_comm_state_change
        old = self._state
        if old == new:
            return
        closing = new in ("CLOSED", "CLOSED_WITH_ERROR")
        if closing:
            self._fire(Events.UPDATED_FILES, {"type": "printables"})  # comm empties the SD file list
        self._state, text, error = new, _STATE_TEXT[new], self._error
        if old == "PRINTING" and new in ("CLOSED", "ERROR", "CLOSED_WITH_ERROR") and self._selected:
            payload = self._payload()
            payload.update(time=self._print_time(), reason="error", error=self._error, progress=self._fraction)
            self._log_print(payload, False)
            self._fire(Events.PRINT_FAILED, payload)
        if closing:
            self._state, self._sd_ready = None, False  # Printer drops its comm object
            if self._selected:
                self._fire(Events.FILE_DESELECTED)
            self._set_job_data(None)
            self._progress, self._current_z, self._fraction = dict(_EMPTY_PROGRESS), None, None
            self._resends = {"count": 0, "transmitted": 0, "ratio": 0}
            self._fire(Events.DISCONNECTED)
        self._state_text, self._error_string = text, error
        self._fire(Events.PRINTER_STATE_CHANGED,
                   {"state_id": self.get_state_id(), "state_string": self.get_state_string()})
        self._push()

    def _payload(self, file=None, action_user=None, position=None, fileposition=None, progress=None):
        if file is None:  # Printer._payload_for_print_job_event
            if not self._selected:
                return {}
            file, size, owner = self._selected["filename"], self._selected["filesize"], self._selected["user"]
        else:
            size, owner = None, action_user
        path = self._fm.path_in_storage("local", file)
        result = {"name": self._fm.split_path("local", path)[1], "path": path, "origin": "local", "size": size}
        for key, value in (("position", position), ("fileposition", fileposition)):
            if value is not None:
                result[key] = value
        if progress is not None:
            result["progress"] = int(progress * 100)
        if owner is not None:
            result["owner"] = owner
        if action_user is not None:
            result["user"] = action_user
        return result

    def _set_job_data(self, filename, filesize=None, user=None):  # Printer._setJobData
        if filename is None:
            self._selected = None
            self._job = {"file": dict.fromkeys(("name", "path", "display", "origin", "size", "date")),
                         "estimatedPrintTime": None, "averagePrintTime": None, "lastPrintTime": None,
                         "filament": None, "user": None}
            return
        pis, pod = self._fm.path_in_storage("local", filename), self._fm.path_on_disk("local", filename)
        name = display = self._fm.split_path("local", pis)[1]
        self._selected = {"filename": pis, "filesize": filesize, "sd": False, "estimatedPrintTime": None, "user": user}
        meta, est, avg, last, filament = self._fm.get_metadata("local", pod) or {}, None, None, None, None
        display = meta.get("display") or display
        if isinstance(meta.get("analysis"), dict):
            est = meta["analysis"].get("estimatedPrintTime") or None
            filament = meta["analysis"].get("filament") or None
        if isinstance(meta.get("statistics"), dict):
            avg = meta["statistics"].get("averagePrintTime", {}).get(DEFAULT_PRINTER_PROFILE["id"])
            last = meta["statistics"].get("lastPrintTime", {}).get(DEFAULT_PRINTER_PROFILE["id"])
        if avg is not None or est is not None:
            self._selected.update(estimatedPrintTime=avg if avg is not None else est,
                                  estimatedPrintTimeType="average" if avg is not None else "analysis")
        self._job = {"file": {"name": name, "path": pis, "display": display, "origin": "local", "size": filesize,
                              "date": int(os.stat(pod).st_mtime)},
                     "estimatedPrintTime": est, "averagePrintTime": avg, "lastPrintTime": last,
                     "filament": filament, "user": user}

    def _on_metadata_changed(self, event, payload):
        with self._lock:
            if self._selected:
                try:
                    self._set_job_data(self._selected["filename"], self._selected["filesize"], self._selected["user"])
                except OSError:
                    _log.exception("Could not refresh job data")

    def _print_time(self):
        if self._started_at is None:
            return None
        if self._print_time_override is not None:
            return self._print_time_override
        paused = time.monotonic() - self._paused_at if self._paused_at else 0.0
        return time.monotonic() - self._started_at - self._pause_lost - paused

    def _filepos(self):
        if self._selected and self._fraction is not None:
            return int((self._selected["filesize"] or 0) * self._fraction)

    def _progress_data(self):  # Printer._updateProgressDataCallback (estimator simplified)
        f, pt = self._fraction, self._print_time()
        if f is None:
            return dict(_EMPTY_PROGRESS)
        left = origin = None
        if f >= 1:
            left = 0
        elif f > 0:
            est = self._selected.get("estimatedPrintTime") if self._selected else None
            if self._print_time_left is not None:
                left, origin = self._print_time_left, "estimate"
            elif est:
                left, origin = est * (1 - f), self._selected.get("estimatedPrintTimeType", "analysis")
            elif pt:
                left, origin = pt / f - pt, "linear"
        return {"completion": round(f * 100, 6), "filepos": self._filepos(), "printTime": int(pt) if pt is not None else None,
                "printTimeLeft": int(left) if left is not None else None, "printTimeLeftOrigin": origin}

    def _position(self):
        return {"x": 0.0, "y": 0.0, "z": self._current_z if self._current_z is not None else 0.0, "e": 0.0,
                "t": 0, "f": None}

    def _log_print(self, payload, success):
        try:
            self._fm.log_print("local", payload["path"], time.time(), payload.get("time"), success,
                               DEFAULT_PRINTER_PROFILE["id"])
        except Exception:
            _log.exception("Could not log print")

    def _push(self):
        for callback in list(self._callbacks):
            try:
                callback.on_printer_send_current_data(self.get_current_data())
            except Exception as exc:
                self.callback_errors.append((callback, exc))

    def _complete(self, fn):
        if self.auto_complete:
            fn()
        else:
            self._pending = fn

    def complete_transition(self):
        """Finish a pause or cancel that is waiting because auto_complete is False. Return False if nothing waits."""
        with self._lock:
            fn, self._pending = self._pending, None
            if fn:
                fn()
            return fn is not None

    def _run_script(self, name, payload):
        self.script(name, context={"event": payload}, must_be_set=False, part_of_job=True)

    def _send(self, cmd, tags):
        cmd = cmd.split(";", 1)[0].strip()
        if not cmd or self._state is None:
            return
        match = re.match(r"\s*([GM]\d+|T\d+)", cmd.upper())
        code = match.group(1) if match else None
        if code == "M112":  # comm's M112 queuing hook
            return self._emergency_stop(close=True)
        self.sent_commands.append(cmd)
        self.sent_command_tags.append(set(tags))
        self._resends = {"count": 0, "transmitted": len(self.sent_commands), "ratio": 0}
        params = {k: float(v) for k, v in re.findall(r"([A-Z])(-?(?:\d+\.?\d*|\.\d+))", cmd.upper()[len(code or ""):])}
        if code in ("M104", "M109") and "S" in params:
            self._temps.setdefault("tool%d" % int(params.get("T", 0)), [self._ambient, 0.0])[1] = params["S"]
        elif code in ("M140", "M190") and "S" in params:
            self._temps["bed"][1] = params["S"]
        elif code in ("G0", "G1") and "Z" in params:
            self._z_change(params["Z"])
        elif code == "M115":
            data = parse_firmware_line(self.firmware_line)
            name = data.get("FIRMWARE_NAME")
            self._fire(Events.FIRMWARE_DATA, {"name": name, "data": data})
            if self._firmware_info is None and name:
                self._firmware_info = {"name": name.strip(), "data": data}
        if code in GCODE_TO_EVENT:
            self._fire(GCODE_TO_EVENT[code])

    def _z_change(self, new):  # Printer.on_comm_z_change
        if new != self._current_z:
            self._fire(Events.Z_CHANGE, {"new": new, "old": self._current_z})
        self._current_z = new

    def _emergency_stop(self, close):  # MachineCom._trigger_emergency_stop
        for cmd in ("M112", "M104 T0 S0", "M140 S0"):
            self.sent_commands.append(cmd)
            self.sent_command_tags.append(set())
        self._temps["tool0"][1] = self._temps["bed"][1] = 0.0
        if close:
            self._error = "Closing serial port due to emergency stop M112."
            self._change_state("CLOSED_WITH_ERROR")
        self._fire(Events.E_STOP)

    def _report_progress(self):  # Printer._reportPrintProgressToPlugins
        with self._lock:
            if self._fraction is None or not self._selected:
                return
            value = int(self._fraction * 100)
            if value == self._last_progress_report:
                return
            self._last_progress_report, path, plugins = value, self._selected["filename"], list(self._progress_plugins)

        def call_plugins():
            for plugin in plugins:
                try:
                    plugin.on_print_progress("local", path, value)
                except Exception as exc:
                    _log.exception("Exception while sending print progress to plugin")
                    self.callback_errors.append((plugin, exc))
        thread = threading.Thread(target=call_plugins, name="StandInProgressReport")
        thread.start()
        thread.join(10)

    # -- PrinterInterface: connection, commands --
    def connect(self, port=None, baudrate=None, profile=None, *args, **kwargs):
        with self._lock:
            if self._state is not None:
                return  # standard.Printer.connect: no-op while a comm object exists
            self._error_info, self._firmware_info, self._error = None, None, ""
            self._fire(Events.CONNECTING)
            detect = not (port and port != "AUTO" and baudrate)
            self._port, self._baudrate = (port if port and port != "AUTO" else "VIRTUAL"), (baudrate or 115200)
            for state in (("DETECT_SERIAL",) if detect else ("OPEN_SERIAL", "CONNECTING")) + ("OPERATIONAL",):
                self._change_state(state)
            self._temps = {"tool0": [self._ambient, 0.0], "bed": [self._ambient, 0.0]}
            tags = {"trigger:comm.on_connected"}
            self._send("M110 N0", tags)
            self._fire(Events.CONNECTED, {"port": self._port, "baudrate": self._baudrate})
            self._send("M115", tags)
            self._send("M21", tags)
            self._sd_ready = True
            self._fire(Events.UPDATED_FILES, {"type": "printables"})  # SD list refreshed

    def disconnect(self, *args, **kwargs):
        with self._lock:
            self._fire(Events.DISCONNECTING)
            if self._state is None:
                self._fire(Events.DISCONNECTED)
            else:
                self._change_state("CLOSED")
            self._firmware_info = None

    def fake_ack(self, *args, **kwargs):
        pass

    def log_lines(self, *lines):
        pass

    def commands(self, commands, tags=None, force=False, *args, **kwargs):
        with self._lock:
            if self._state is None:
                return
            for command in commands if isinstance(commands, (list, tuple)) else [commands]:
                self._send(command, (tags or set()) | {"trigger:printer.commands"})

    def script(self, name, context=None, must_be_set=True, part_of_job=False, *args, **kwargs):
        with self._lock:
            if self._state is None:
                return
            if not name:
                raise ValueError("name must be set")
            event_name = name[0].upper() + name[1:]
            payload = context.get("event", None) if isinstance(context, dict) else None
            self._fire(f"GcodeScript{event_name}Running", payload)
            lines = self.gcode_scripts.get(name)
            for line in lines or []:
                self._send(line, kwargs.get("tags", set()) | {"trigger:printer.script"})
            if not lines and must_be_set:
                raise UnknownScript(name)
            self._fire(f"GcodeScript{event_name}Finished", payload)

    def set_temperature(self, heater, value, *args, **kwargs):
        if not self.valid_heater_regex.match(heater):
            raise ValueError(f'heater must match "tool[0-9]+", "bed" or "chamber": {heater}')
        if not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"value must be a valid number >= 0: {value}")
        tags = kwargs.get("tags", set()) | {"trigger:printer.set_temperature"}
        code = "M104" if heater.startswith("tool") else "M140" if heater == "bed" else "M141"
        self.commands(f"{code} S{value}", tags=tags)

    def register_callback(self, callback, *args, **kwargs):
        self._callbacks.append(callback)

    def unregister_callback(self, callback, *args, **kwargs):
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def send_initial_callback(self, callback):
        if callback in self._callbacks:
            data = self.get_current_data()
            data.update(temps=self.get_temperature_history(), logs=[], messages=[], markings=[])
            callback.on_printer_send_initial_data(data)

    # -- PrinterInterface: jobs --
    def _validate_job(self, filename, sd):  # Printer._validateJob
        if not valid_file_type(filename, type="machinecode"):
            raise InvalidFileType(f"{filename} is not a machinecode file, cannot print")
        if sd:
            return
        path_on_disk = self._fm.path_on_disk("local", filename)
        if os.path.isabs(filename) and not filename == path_on_disk:
            raise InvalidFileLocation(f"{filename} is not located within local storage, cannot select for printing")
        if not os.path.isfile(path_on_disk):
            raise InvalidFileLocation(f"{filename} does not exist in local storage, cannot select for printing")

    def select_file(self, path, sd, printAfterSelect=False, user=None, pos=None, *args, **kwargs):
        with self._lock:
            if self._state is None or self._busy():
                _log.info("Cannot load file: printer not connected or currently busy")
                return
            self._validate_job(path, sd)
            if sd:  # SD printing is not simulated: only the M23 goes out, nothing gets selected
                return self._send("M23 " + path.lstrip("/"), {"trigger:comm.select_file"})
            path_on_disk = self._fm.path_on_disk("local", path)
            self._fraction, self._started_at = 0.0, None
            self._fire(Events.FILE_SELECTED, self._payload(file=path_on_disk, action_user=user))
            self._set_job_data(path_on_disk, os.path.getsize(path_on_disk), user)
            self._progress, self._current_z = dict(_EMPTY_PROGRESS), None
            self._push()
        if printAfterSelect:
            self.start_print(pos=pos, user=user)

    def unselect_file(self, *args, **kwargs):
        with self._lock:
            if self._state is not None and self._busy():
                return
            if self._state is None:  # the real Printer calls self._comm.unselectFile() on None here
                raise AttributeError("'NoneType' object has no attribute 'unselectFile'")
            self._fire(Events.FILE_DESELECTED)
            self._set_job_data(None)
            self._progress, self._current_z, self._fraction = dict(_EMPTY_PROGRESS), None, None
            self._push()

    def start_print(self, pos=None, user=None, *args, **kwargs):
        with self._lock:
            if not self.is_operational() or self.is_printing() or not self._selected:
                return  # (a paused job is restarted from the beginning, as in MachineCom.startPrint)
            self._fm.delete_recovery_data()
            self._last_progress_report, self._current_z, self._fraction = None, None, 0.0
            self._started_at, self._paused_at, self._pause_lost = time.monotonic(), None, 0.0
            self._print_time_override = self._print_time_left = None
            self._change_state("STARTING")
            self._error_info = None
            self._selected["user"] = self._job["user"] = user  # Printer._updateJobUser
            self._progress = self._progress_data()
            payload = self._payload(action_user=user)
            self._fire(Events.PRINT_STARTED, payload)
            self._fire(Events.CHART_MARKED, {"type": "print", "label": "Start"})
            self._run_script("beforePrintStarted", payload)
            self._change_state("PRINTING")
        self._report_progress()

    def set_progress(self, completion, print_time=None, print_time_left=None, z="auto"):
        """Test control: the job reached ``completion`` percent (0-100); 100 finishes it (PrintDone).

        z="auto" moves Z to 0.2 mm per started percent (ZChange). Pass a number to set Z, or None to keep it.
        print_time and print_time_left (seconds) override the elapsed time and the estimate.
        """
        with self._lock:
            if self._state not in ("STARTING", "PRINTING", "RESUMING"):
                raise RuntimeError(f"set_progress() needs a running print, state is {self.get_state_id()}")
            self._fraction = min(max(float(completion), 0.0), 100.0) / 100.0
            if print_time is not None:
                self._print_time_override = float(print_time)
            self._print_time_left = print_time_left
            z = round(0.2 * max(1, math.ceil(completion)), 2) if z == "auto" else z
            if z is not None:
                self._z_change(float(z))
            self._progress = self._progress_data()
            self._push()
        self._report_progress()
        if self._fraction >= 1.0:
            with self._lock:
                self._finish()

    def _finish(self):  # MachineCom._get_next_from_job at EOF + Printer.on_comm_print_job_done
        self._change_state("FINISHING")
        self._send("M400", {"source:job"})
        self._fm.delete_recovery_data()
        payload = self._payload()
        payload["time"] = self._print_time()
        self._fire(Events.CHART_MARKED, {"type": "done", "label": "Done"})
        self._progress = {"completion": 100, "filepos": payload["size"], "printTime": int(payload["time"]),
                          "printTimeLeft": 0, "printTimeLeftOrigin": None}
        self._fire(Events.PRINT_DONE, payload)
        self._run_script("afterPrintDone", payload)
        self._log_print(payload, True)
        self._change_state("OPERATIONAL")

    def pause_print(self, user=None, *args, **kwargs):
        with self._lock:
            if self._state not in ("PRINTING", "STARTING", "RESUMING") or self._fraction is None:
                return
            self._paused_at = time.monotonic()
            self._change_state("PAUSING")
            tags = kwargs.get("tags", set()) | {"trigger:comm.set_pause", "trigger:pause"}
            self._send("M400", tags)
            self._send("M114", tags)
            self._complete(lambda: self._pause_done(user))

    def _pause_done(self, user):  # MachineCom._pause_preparation_done + Printer.on_comm_print_job_paused
        pos = self._position()
        payload = self._payload(action_user=user, position=pos, fileposition=self._filepos(), progress=self._fraction)
        self._fire(Events.PRINT_PAUSED, payload)
        self._fire(Events.CHART_MARKED, {"type": "pause", "label": "Pause"})
        self._run_script("afterPrintPaused", payload)
        self._fire(Events.POSITION_UPDATE, dict({"reason": "pause"}, **pos))
        if self._state == "PAUSING":
            self._change_state("PAUSED")

    def resume_print(self, user=None, *args, **kwargs):
        with self._lock:
            if self._state != "PAUSED":
                return
            if self._paused_at:
                self._pause_lost += time.monotonic() - self._paused_at
                self._paused_at = None
            self._change_state("RESUMING")
            payload = self._payload(action_user=user)
            self._fire(Events.PRINT_RESUMED, payload)
            self._fire(Events.CHART_MARKED, {"type": "resume", "label": "Resume"})
            self._run_script("beforePrintResumed", payload)
            if self._state == "RESUMING":
                self._change_state("PRINTING")

    def toggle_pause_print(self, *args, **kwargs):
        if self.is_printing():
            self.pause_print(*args, **kwargs)
        elif self.is_paused():
            self.resume_print(*args, **kwargs)

    def cancel_print(self, user=None, *args, **kwargs):
        with self._lock:
            if not self.is_operational() or not self._busy() or not self._selected or self.is_cancelling():
                return
            self._fire(Events.PRINT_CANCELLING, self._payload(action_user=user))
            self._change_state("CANCELLING")
            tags = kwargs.get("tags", set()) | {"trigger:comm.cancel", "trigger:cancel"}
            for cmd in ("M108", "M400", "M114"):
                self._send(cmd, tags)
            self._complete(lambda: self._cancel_done(user))

    def _cancel_done(self, user):  # MachineCom._cancel_preparation_done + Printer.on_comm_print_job_cancelled
        pos = self._position()
        self._current_z, self._progress = None, dict(_EMPTY_PROGRESS)
        payload = self._payload(action_user=user, position=pos, fileposition=self._filepos(), progress=self._fraction)
        payload["time"] = self._print_time()
        self._fire(Events.PRINT_CANCELLED, payload)
        self._fire(Events.CHART_MARKED, {"type": "cancel", "label": "Cancel"})
        self._run_script("afterPrintCancelled", payload)
        self._fire(Events.POSITION_UPDATE, dict({"reason": "cancel"}, **pos))
        failed = dict(payload, reason="cancelled")
        self._log_print(failed, False)
        self._fire(Events.PRINT_FAILED, failed)
        self._change_state("OPERATIONAL")

    # -- test controls --
    def add_progress_plugin(self, plugin):
        self._progress_plugins.append(plugin)

    def set_temps(self, **heaters):
        """set_temps(tool0=(actual, target), bed=(actual, target)); None in a tuple keeps that value."""
        with self._lock:
            for heater, (actual, target) in heaters.items():
                if not self.valid_heater_regex.match(heater):
                    raise ValueError(f"invalid heater {heater}")
                current = self._temps.setdefault(heater, [self._ambient, 0.0])
                current[:] = [current[0] if actual is None else float(actual),
                              current[1] if target is None else float(target)]
            self._record_temps()

    def tick(self, seconds=1.0):
        """Move the heaters towards their targets like the virtual printer (10 °C/s; 2 °C/s to ambient)."""
        with self._lock:
            for values in self._temps.values():
                actual, target = values
                goal, rate = (target, 10.0) if target > 0 else (self._ambient, 2.0)
                step = min(abs(goal - actual), rate * seconds)
                values[0] = round(actual + math.copysign(step, goal - actual), 2)
            self._record_temps()

    def _record_temps(self):
        entry = {"time": int(time.time()), **{k: {"actual": a, "target": t} for k, (a, t) in self._temps.items()}}
        self._temp_history.append(entry)
        for callback in list(self._callbacks):
            try:
                callback.on_printer_add_temperature(copy.deepcopy(entry))
            except Exception as exc:
                self.callback_errors.append((callback, exc))

    def simulate_error(self, error="Printer halted. kill() called!", reason="firmware", close=True):
        """A fatal error as in MachineCom._trigger_error: Error, then (close) emergency stop and Offline after error."""
        with self._lock:
            if self._state is None:
                return
            self._error = error
            self._change_state("ERROR")
            consequence = None
            if close:
                consequence = "disconnect" if reason in ("connection", "autodetect") else "emergency"
            payload = {"error": error, "reason": reason}
            if consequence:
                payload["consequence"] = consequence
            if reason == "firmware":
                payload["logs"] = ["Send: " + c for c in self.sent_commands[-50:]] + ["Recv: Error:" + error]
                faq = next((f for f, trig in _ERROR_FAQS.items() if any(t in error.lower() for t in trig)), None)
                if faq:
                    payload["faq"] = "firmware-" + faq
            self._error_info = {"error": error, "reason": reason, "consequence": consequence,
                                "faq": payload.get("faq"), "logs": payload.get("logs")}
            self._fire(Events.ERROR, payload)
            if close:
                if consequence == "emergency":
                    self._emergency_stop(close=False)
                self._change_state("CLOSED_WITH_ERROR")


# ----------------------------------------------------------------------------------------------- settings
_GLOBAL_DEFAULTS = {
    "server": {"host": None, "port": 5000, "firstRun": True},
    "api": {"allowCrossOrigin": False},
    "serial": {"port": None, "baudrate": None, "autoconnect": False, "disconnectOnErrors": True,
               "sendM112OnError": True},
    "feature": {"sdSupport": True},
    "webcam": {"webcamEnabled": True, "timelapseEnabled": True, "defaultWebcam": "classic",
               "snapshotWebcam": "classic"},
    "plugins": {"classicwebcam": {"flipH": False, "flipV": False, "rotate90": False, "stream": "", "streamTimeout": 5,
                                  "streamRatio": "16:9", "streamWebrtcIceServers": ["stun:stun.l.google.com:19302"],
                                  "snapshot": "", "cacheBuster": False, "snapshotSslValidation": True,
                                  "snapshotTimeout": 5}}}
_WEBCAM_COMPAT = ("streamTimeout", "streamRatio", "streamWebrtcIceServers", "cacheBuster", "stream", "snapshot",
                  "snapshotTimeout", "snapshotSslValidation")


def _lookup(tree, path):
    for key in path:
        if not isinstance(tree, dict) or key not in tree:
            raise KeyError(key)
        tree = tree[key]
    return tree


class StandInSettings:
    """PluginSettings for plugin ``plugin_key``: plugin paths are relative, ``global_*`` paths are absolute.

    ``defaults`` plays the part of get_settings_defaults(). ``config`` holds what config.yaml would hold,
    only the values set away from their defaults, and can be seeded with ``global_config``. As in
    ``Settings.set``, setting a key that has no default and no stored value does nothing unless
    ``force=True``, and setting a value back to its default removes it. Every ``save()`` call is recorded
    in ``saves``.
    """

    def __init__(self, defaults=None, plugin_key="prusaconnect", global_config=None, event_bus=None, basedir=None):
        self.plugin_key, self._bus, self._lock = plugin_key, event_bus, threading.RLock()
        self.defaults = dict(copy.deepcopy(defaults or {}), _config_version=None)
        self.global_defaults = copy.deepcopy(_GLOBAL_DEFAULTS)
        self.global_defaults["plugins"][plugin_key] = self.defaults
        self.config, self.saves, self._dirty = copy.deepcopy(global_config or {}), [], False
        self.basedir = basedir  # made on demand by global_get_basefolder() when None

    # -- octoprint.settings.Settings core --
    @staticmethod
    def _compat(path):  # webcam compat overlay paths (deprecated)
        if len(path) == 2 and path[0] == "webcam" and isinstance(path[1], str) and path[1] in _WEBCAM_COMPAT:
            return ["plugins", "classicwebcam", path[1]]

    def _value(self, path, asdict=False, merged=False, incl_defaults=True, do_copy=True, defaults=None, config=None,
               preprocessors=None):
        if not path:
            raise NoSuchSettingsPath()
        if self._compat(path):
            _log.warning("DeprecationWarning: Detected access to deprecated settings path %s", path)
            path = self._compat(path)
        defaults = self.global_defaults if defaults is None else defaults
        config = self.config if config is None else config
        parent, last = list(path[:-1]), path[-1]
        results = {}
        for key in last if isinstance(last, (list, tuple)) else [last]:
            try:
                value, local = _lookup(config, parent + [key]), True
            except KeyError:
                try:
                    if not incl_defaults:
                        raise KeyError(key)
                    value, local = _lookup(defaults, parent + [key]), False
                except KeyError:
                    raise NoSuchSettingsPath()
            if local and merged and isinstance(value, dict):
                try:
                    default = _lookup(defaults, parent + [key])
                    value = _dict_merge(default, value) if isinstance(default, dict) else value
                except KeyError:
                    pass
            results[key] = copy.deepcopy(value) if do_copy else value
        if not isinstance(last, (list, tuple)):
            return results[last]
        return results if asdict else list(results.values())

    def _get(self, path, **kwargs):
        error_on_path, validator = kwargs.pop("error_on_path", False), kwargs.pop("validator", None)
        fallback = kwargs.pop("fallback", None)
        try:
            result = self._value(path, **kwargs)
        except NoSuchSettingsPath:
            if error_on_path:
                raise
            result = None
        return fallback if callable(validator) and not validator(result) else result

    def _get_number(self, conv, path, **kwargs):
        minimum, maximum = kwargs.pop("min", None), kwargs.pop("max", None)
        value = self._get(path, **kwargs)
        if value is None:
            return None
        try:
            value = conv(value)
        except ValueError:
            _log.warning("Could not convert %r to a valid number when getting option %r", value, path)
            return None
        if minimum is not None and value < minimum:
            return minimum
        return maximum if maximum is not None and value > maximum else value

    def _get_boolean(self, path, **kwargs):
        value = self._get(path, **kwargs)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            return value != 0
        if isinstance(value, str):
            return value.lower() in ("true", "yes", "y", "1")
        return value is not None

    def _set(self, path, value, force=False, defaults=None, config=None, preprocessors=None, error_on_path=False,
             *args, **kwargs):
        if not path:
            if error_on_path:
                raise NoSuchSettingsPath()
            return
        if self._compat(path):
            _log.warning("[Deprecation] Prevented write of `%s` to deprecated settings path %s", value, path)
            return
        defaults = self.global_defaults if defaults is None else defaults
        config = self.config if config is None else config
        with self._lock:
            try:
                default_value, in_defaults = _lookup(defaults, path), True
            except KeyError:
                if error_on_path:
                    raise NoSuchSettingsPath()
                default_value, in_defaults = None, False
            try:
                current, in_local = _lookup(config, path), True
            except KeyError:
                current, in_local = default_value, False
            if not force and in_defaults and in_local and default_value == value:
                self._delete(config, path)
            elif force or (not in_local and in_defaults and default_value != value) or (in_local and current != value):
                node = config
                for key in path[:-1]:
                    node = node.setdefault(key, {})
                node[path[-1]] = copy.deepcopy(value)
                self._dirty = True

    def _set_number(self, conv, path, value, **kwargs):
        minimum, maximum = kwargs.pop("min", None), kwargs.pop("max", None)
        if value is None:
            return self._set(path, None, **kwargs)
        try:
            value = conv(value)
        except ValueError:
            _log.warning("Could not convert %r to a valid number when setting option %r", value, path)
            return
        value = max(value, minimum) if minimum is not None else value
        self._set(path, min(value, maximum) if maximum is not None else value, **kwargs)

    def _set_boolean(self, path, value, **kwargs):
        if not (value is None or isinstance(value, bool)):
            value = isinstance(value, str) and value.lower() in ("true", "yes", "y", "1")
        self._set(path, value, **kwargs)

    def _delete(self, config, path):
        with self._lock:
            try:
                del _lookup(config, path[:-1])[path[-1]]
                self._dirty = True
            except (KeyError, TypeError):
                pass

    def _p(self, path):
        return ["plugins", self.plugin_key] + list(path)

    # -- PluginSettings API --
    def global_has(self, path, **kwargs):
        try:
            self._value(list(path), **kwargs)
            return True
        except NoSuchSettingsPath:
            return False

    def has(self, path, **kwargs): return self.global_has(self._p(path), **kwargs)  # noqa: E704

    def get(self, path, merged=False, asdict=False, **kwargs):
        return self._get(self._p(path), merged=merged, asdict=asdict, **kwargs)

    def get_int(self, path, **kwargs): return self._get_number(int, self._p(path), **kwargs)  # noqa: E704
    def get_float(self, path, **kwargs): return self._get_number(float, self._p(path), **kwargs)  # noqa: E704
    def get_boolean(self, path, **kwargs): return self._get_boolean(self._p(path), **kwargs)  # noqa: E704
    def set(self, path, value, force=False, **kwargs): self._set(self._p(path), value, force=force, **kwargs)  # noqa
    def set_int(self, path, value, **kwargs): self._set_number(int, self._p(path), value, **kwargs)  # noqa: E704
    def set_float(self, path, value, **kwargs): self._set_number(float, self._p(path), value, **kwargs)  # noqa: E704
    def set_boolean(self, path, value, **kwargs): self._set_boolean(self._p(path), value, **kwargs)  # noqa: E704
    def remove(self, path, **kwargs): self._delete(self.config, self._p(path))  # noqa: E704
    def global_get(self, path, **kwargs): return self._get(path, **kwargs)  # noqa: E704
    def global_get_int(self, path, **kwargs): return self._get_number(int, path, **kwargs)  # noqa: E704
    def global_get_float(self, path, **kwargs): return self._get_number(float, path, **kwargs)  # noqa: E704
    def global_get_boolean(self, path, **kwargs): return self._get_boolean(path, **kwargs)  # noqa: E704
    def global_set(self, path, value, **kwargs): self._set(path, value, **kwargs)  # noqa: E704
    def global_set_int(self, path, value, **kwargs): self._set_number(int, path, value, **kwargs)  # noqa: E704
    def global_set_float(self, path, value, **kwargs): self._set_number(float, path, value, **kwargs)  # noqa: E704
    def global_set_boolean(self, path, value, **kwargs): self._set_boolean(path, value, **kwargs)  # noqa: E704
    def global_remove(self, path, **kwargs): self._delete(self.config, list(path))  # noqa: E704

    def global_get_basefolder(self, folder_type, **kwargs):
        self.basedir = self.basedir or tempfile.mkdtemp(prefix="standin-octoprint-")
        folder = os.path.join(self.basedir, folder_type)
        os.makedirs(folder, exist_ok=True)
        return folder

    def get_plugin_logfile_path(self, postfix=None):
        name = f"plugin_{self.plugin_key}" + (f"_{postfix}" if postfix else "") + ".log"
        return os.path.join(self.global_get_basefolder("logs"), name)

    def get_all_data(self, **kwargs):
        kwargs.setdefault("merged", True)
        kwargs.setdefault("asdict", True)
        return self._get(["plugins", self.plugin_key], **kwargs)

    def clean_all_data(self):
        self._delete(self.config, ["plugins", self.plugin_key])

    def save(self, force=False, trigger_event=False):
        with self._lock:
            saved = bool(self._dirty or force)
            self.saves.append({"force": force, "trigger_event": trigger_event, "saved": saved,
                               "config": copy.deepcopy(self.config)})
            self._dirty = False
        if saved and trigger_event and self._bus is not None:
            digest = hashlib.md5(json.dumps(self.config, sort_keys=True, default=str).encode()).hexdigest()
            self._bus.fire(Events.SETTINGS_UPDATED, {"config_hash": digest, "effective_hash": digest})
        return saved


# ----------------------------------------------------------------------------------------------- plugin manager & env
class StandInPluginManager:
    """``send_plugin_message(plugin, data, permissions=None)`` calls the registered receivers, as
    PluginManager does, and records (plugin, data) in ``plugin_messages``."""

    def __init__(self):
        self.plugin_messages, self.registered_clients = [], []

    def register_message_receiver(self, client):
        self.registered_clients.append(client)

    def unregister_message_receiver(self, client):
        if client in self.registered_clients:
            self.registered_clients.remove(client)

    def send_plugin_message(self, plugin, data, permissions=None):
        self.plugin_messages.append((plugin, copy.deepcopy(data)))
        for client in list(self.registered_clients):
            try:
                client(plugin, data, permissions=permissions)
            except Exception:
                _log.exception("Exception while sending plugin data to client")

    def messages_for(self, plugin):
        return [data for p, data in self.plugin_messages if p == plugin]


def make_plugin_env(tmpdir, plugin_key="prusaconnect"):
    """Wire a bus, a file manager (``<tmpdir>/uploads``), a printer, settings (no defaults), a plugin manager,
    a logger and a datafolder (``<tmpdir>/data/<plugin_key>``). ``env.inject(plugin)`` sets the attributes
    OctoPrint injects, rebuilds ``env.settings`` from ``plugin.get_settings_defaults()``, and connects
    ``on_event`` and ``on_print_progress``."""
    bus = EventBus()
    file_manager = StandInFileManager(os.path.join(tmpdir, "uploads"), event_bus=bus)
    datafolder = os.path.join(tmpdir, "data", plugin_key)
    os.makedirs(datafolder, exist_ok=True)
    env = types.SimpleNamespace(
        event_bus=bus, file_manager=file_manager, printer=StandInPrinter(file_manager, bus),
        settings=StandInSettings({}, plugin_key, event_bus=bus, basedir=tmpdir), plugin_manager=StandInPluginManager(),
        logger=logging.getLogger(f"octoprint.plugins.{plugin_key}"), datafolder=datafolder, basedir=tmpdir,
        plugin_key=plugin_key)

    def inject(plugin):
        if callable(getattr(plugin, "get_settings_defaults", None)):
            env.settings = StandInSettings(plugin.get_settings_defaults(), plugin_key, event_bus=bus, basedir=tmpdir)
        module = sys.modules.get(type(plugin).__module__)
        for attr, value in dict(_identifier=plugin_key, _plugin_name=plugin_key, _plugin_version=None,
                                _basefolder=os.path.dirname(getattr(module, "__file__", "") or ""),
                                _printer=env.printer, _file_manager=file_manager, _settings=env.settings,
                                _event_bus=bus, _plugin_manager=env.plugin_manager, _logger=env.logger,
                                _datafolder=datafolder).items():
            setattr(plugin, attr, value)
        if callable(getattr(plugin, "on_event", None)):
            bus.add_handler(plugin.on_event)
        if callable(getattr(plugin, "on_print_progress", None)):
            env.printer.add_progress_plugin(plugin)
        return plugin
    env.inject = inject
    return env


# ----------------------------------------------------------------------------------------------- self-check
if __name__ == "__main__":
    import io

    logging.basicConfig(level=logging.ERROR)

    class _Plugin:
        def __init__(self):
            self.events, self.progress, self.threads = [], [], set()

        def get_settings_defaults(self):
            return {"token": None, "interval": 5, "enabled": True}

        def on_event(self, event, payload):
            self.events.append((event, payload))
            self.threads.add(threading.current_thread().name)

        def on_print_progress(self, storage, path, progress):
            self.progress.append((storage, path, progress))

    with tempfile.TemporaryDirectory() as tmp:
        env, plugin = make_plugin_env(tmp), _Plugin()
        env.inject(plugin)
        fm, pr, bus, st = env.file_manager, env.printer, env.event_bus, plugin._settings

        # files
        assert fm.add_folder("local", "prints") == "prints"
        gcode = b"G28\nG1 Z0.2 F3000\n" + b"G1 X10 Y10 E1\n" * 200
        path = fm.add_file("local", "prints/benchy.gcode", StreamWrapper("benchy.gcode", io.BytesIO(gcode)))
        assert path == "prints/benchy.gcode" and fm.file_exists("local", path) and fm.folder_exists("local", "prints")
        try:
            fm.add_file("local", path, StreamWrapper("benchy.gcode", io.BytesIO(b"x")))
            raise AssertionError("overwrite without allow_overwrite must fail")
        except StorageError as e:
            assert e.code == StorageError.ALREADY_EXISTS
        try:
            fm.add_file("local", "model.stl", StreamWrapper("model.stl", io.BytesIO(b"x")))
            raise AssertionError("stl must be refused")
        except StorageError as e:
            assert e.code == StorageError.INVALID_FILE
        fm.set_analysis(path, estimatedPrintTime=600.0, filament_mm=1234.5)
        entry = fm.list_files("local", recursive=True)["local"]["prints"]["children"]["benchy.gcode"]
        assert entry["type"] == "machinecode" and entry["typePath"] == ["machinecode", "gcode"]
        assert entry["size"] == len(gcode) and entry["analysis"]["estimatedPrintTime"] == 600.0 and "hash" in entry
        top = fm.list_files("local")["local"]["prints"]
        assert top["children"] == {} and top["size"] == len(gcode) and top["type"] == "folder"
        assert fm.path_on_disk("local", path) == os.path.join(fm.basefolder, "prints", "benchy.gcode")

        # settings
        assert st.get(["interval"]) == 5 and st.get_boolean(["enabled"]) is True and st.get(["missing"]) is None
        st.set(["unknown"], 1)
        assert st.get(["unknown"]) is None  # no default, not forced -> ignored, like Settings.set
        st.set(["token"], "abc")
        assert st.save() is True and st.save() is False and len(st.saves) == 2
        assert st.global_get(["server", "port"]) == 5000 and st.global_get(["webcam", "snapshot"]) == ""

        # connect + temperatures
        assert pr.get_current_temperatures() == {} and pr.get_state_id() == "OFFLINE"
        pr.connect()
        assert pr.get_state_id() == "OPERATIONAL" and pr.is_ready()
        assert pr.firmware_info["name"] == "Virtual Marlin 1.0"
        pr.set_temperature("tool0", 215)
        pr.set_temps(bed=(60.0, 60.0))
        pr.tick(5)
        temps = pr.get_current_temperatures()
        assert temps["tool0"] == {"actual": 71.3, "target": 215.0, "offset": 0} and temps["bed"]["actual"] == 60.0
        for bad, exc in (("nope.gcode", InvalidFileLocation), ("prints", InvalidFileType)):
            try:
                pr.select_file(bad, False)
                raise AssertionError(bad)
            except exc:
                pass

        # print to completion
        pr.select_file(path, False, printAfterSelect=True, user="bridge")
        data = pr.get_current_data()
        assert data["state"]["text"] == "Printing" and data["state"]["flags"]["printing"] and data["currentZ"] is None
        assert data["job"]["file"]["path"] == path and data["job"]["estimatedPrintTime"] == 600.0
        pr.set_progress(50, print_time=300)
        data = pr.get_current_data()
        assert data["progress"]["completion"] == 50.0 and data["progress"]["printTimeLeft"] == 300
        assert data["currentZ"] == 10.0
        pr.set_progress(100, print_time=610)
        assert bus.join(5)
        data = pr.get_current_data()
        assert pr.get_state_id() == "OPERATIONAL" and data["progress"]["completion"] == 100 and data["currentZ"] == 20.0
        names = bus.names()
        order = ["FileSelected", "PrintStarted", "ZChange", "PrintDone"]
        assert [n for n in names if n in order] == ["FileSelected", "PrintStarted", "ZChange", "ZChange", "PrintDone"]
        done = bus.payloads("PrintDone")[0]
        assert done["path"] == path and done["owner"] == "bridge" and done["time"] == 610.0
        assert plugin.progress[0] == ("local", path, 0) and plugin.progress[-1] == ("local", path, 100)
        assert fm.get_metadata("local", path)["statistics"]["lastPrintTime"]["_default"] == 610.0

        # pause, resume, cancel
        bus.clear()
        pr.start_print(user="bridge")
        pr.set_progress(30)
        pr.auto_complete = False
        pr.pause_print()
        assert pr.is_pausing() and pr.get_current_data()["state"]["text"] == "Pausing"
        pr.complete_transition()
        assert pr.is_paused() and pr.get_current_data()["state"]["flags"]["paused"]
        pr.auto_complete = True
        pr.resume_print()
        pr.cancel_print(user="bridge")
        assert bus.join(5)
        names = bus.names()
        i = names.index("PrintCancelled")
        assert names.index("PrintPaused") < names.index("PrintResumed") < i < names.index("PrintFailed")
        failed = bus.payloads("PrintFailed")[0]
        assert failed["reason"] == "cancelled" and failed["progress"] == 30 and "position" in failed
        data = pr.get_current_data()
        assert data["currentZ"] is None and data["progress"]["completion"] is None and pr.is_ready()
        assert pr.get_current_temperatures()["tool0"]["target"] == 0.0  # afterPrintCancelled script

        # fatal error while printing
        bus.clear()
        pr.start_print()
        pr.simulate_error()
        assert bus.join(5)
        data = pr.get_current_data()
        assert data["state"]["text"] == "Offline after error" and data["state"]["flags"]["closedOrError"]
        assert pr.get_state_id() == "OFFLINE" and pr.error_info["consequence"] == "emergency"
        assert [p["reason"] for p in bus.payloads("PrintFailed")] == ["error"]
        assert bus.names()[-2:] == ["Disconnected", "PrinterStateChanged"]

        # file removal
        fm.remove_file("local", path)
        fm.remove_folder("local", "prints")
        assert fm.list_files("local")["local"] == {}
        env.plugin_manager.send_plugin_message(plugin._identifier, {"type": "status"})
        assert env.plugin_manager.messages_for("prusaconnect") == [{"type": "status"}]
        assert bus.join(5) and not bus.errors and not pr.callback_errors
        assert plugin.threads == {"StandInEventBus"} and plugin.events[-1] == bus.fired[-1]
    print("standins self-check OK")
