"""Downloads: ``printer.transfer`` and ``printer.download_mgr`` (the SDK's
``download.Transfer`` and ``download.DownloadMgr``) on libprusaconnect's
transfers (include/prusaconnect/transfer.h).

The library runs a download on its own thread and connection, validates the
destination before anything is written, writes a hidden ``.part`` file that
is renamed into place only when complete, resumes a lost connection with a
Range request, and answers START_URL_DOWNLOAD, START_CONNECT_DOWNLOAD,
STOP_TRANSFER and SEND_TRANSFER_INFO itself. No Python runs while bytes
flow: ``download_mgr.loop()`` only exists for programs written for the SDK
(it waits for ``stop_loop()``), and ``download_finished_cb`` is called on
the bindings' callback thread with the GIL.
"""
import random
import threading
import weakref
from typing import Any, Callable, Dict, Optional

from .const import (FILENAME_LENGTH, FORBIDDEN_CHARACTERS, MAX_NAME_LENGTH, Event, Source,
                    TransferType)
from .util import _struct_dict

__all__ = ["Transfer", "DownloadMgr", "TransferRunningError",
           "TransferAbortedError", "TransferStoppedError", "ForbiddenCharactersError",
           "FilenameTooLongError", "FoldernameTooLongError", "DOWNLOAD_TYPES",
           "forbidden_characters", "filename_too_long", "foldername_too_long",
           "generate_transfer_id"]

_TYPES = TransferType._value2member_map_
_EVENTS = Event._value2member_map_
_ALREADY_RUNNING = "Another transfer in progress"


class TransferRunningError(Exception):
    """A transfer is already in progress (the SDK's; ``download_mgr.start``
    answers with a REJECTED dict instead of raising it, as the SDK)."""


class TransferAbortedError(Exception):
    """The SDK's; the library reports an abort as TRANSFER_ABORTED."""


class TransferStoppedError(Exception):
    """The SDK's; the library reports a stop as TRANSFER_STOPPED."""


DOWNLOAD_TYPES = (TransferType.FROM_WEB, TransferType.FROM_CONNECT, TransferType.FROM_PRINTER)


class ForbiddenCharactersError(ValueError):
    """A forbidden character in a file or folder name (the SDK's; also a
    ValueError, which libprusaconnect raised before)."""
    message = "Forbidden characters in filename or foldername"

    def __init__(self, msg=None):
        super().__init__(msg or self.message)


class FilenameTooLongError(ValueError):
    """The file name is longer than const.FILENAME_LENGTH bytes."""
    message = "Filename length is too long"

    def __init__(self, msg=None):
        super().__init__(msg or self.message)


class FoldernameTooLongError(ValueError):
    """A folder name is longer than const.MAX_NAME_LENGTH."""
    message = "Foldername length is too long"

    def __init__(self, msg=None):
        super().__init__(msg or self.message)


def forbidden_characters(path: str) -> bool:
    """True when `path` holds one of const.FORBIDDEN_CHARACTERS."""
    return any(character in path for character in FORBIDDEN_CHARACTERS)


def filename_too_long(filename: str) -> bool:
    """True when the name is over const.FILENAME_LENGTH bytes (UTF-8)."""
    return len(filename.encode("utf-8")) > FILENAME_LENGTH


def foldername_too_long(path: str) -> bool:
    """True when a folder name in `path` is over const.MAX_NAME_LENGTH."""
    return any(len(folder) > MAX_NAME_LENGTH for folder in path.split("/"))


def generate_transfer_id() -> int:
    """A random 32-bit transfer id, as the SDK's."""
    return random.randint(0, 2**32 - 1)


def _check_names(path: str) -> None:
    """The SDK's checks of a download's destination, with its exceptions."""
    if forbidden_characters(path):
        raise ForbiddenCharactersError()
    if filename_too_long(path.rsplit("/", 1)[-1]):
        raise FilenameTooLongError()
    if foldername_too_long(path.rsplit("/", 1)[0]):
        raise FoldernameTooLongError()


def _team_id(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value or None


def transfer_dict(info) -> Dict[str, Any]:
    """The library's TransferInfo (transfer.h) as a dict: every field (None
    for unset ones; transfer_id None before the first), plus ``progress``
    (percent)."""
    out = _struct_dict(info)
    out["transfer_id"] = info.transfer_id or None
    out["progress"] = info.progress()
    return out


class Transfer:
    """The running transfer, else the last one.

    ``printer.transfer`` is a live view: every attribute reads the library's
    current state. The object given to ``download_finished_cb`` is a
    snapshot of the finished transfer (``outcome`` TRANSFER_FINISHED).
    """

    def __init__(self, printer=None, info: Optional[Dict[str, Any]] = None):
        self._printer = weakref.ref(printer) if printer is not None else None
        self._info = info

    def _get(self) -> Dict[str, Any]:
        if self._info is not None:
            return self._info
        printer = self._printer() if self._printer is not None else None
        if printer is None:
            return {"type": "NO_TRANSFER", "in_progress": False}
        return transfer_dict(printer._native.transfer_info())  # pylint: disable=protected-access

    @property
    def in_progress(self) -> bool:
        """True while a transfer runs."""
        return bool(self._get()["in_progress"])

    @property
    def type(self) -> TransferType:
        """NO_TRANSFER when none runs (as the SDK, which resets it when a
        transfer ends); a snapshot keeps the finished transfer's type."""
        info = self._get()
        if self._info is None and not info["in_progress"]:
            return TransferType.NO_TRANSFER
        return _TYPES[info["type"]]

    @property
    def transfer_id(self) -> Optional[int]:
        """The id of the running or last transfer (None before the first)."""
        return self._get().get("transfer_id")

    @property
    def path(self) -> Optional[str]:
        return self._get().get("path") or None

    @property
    def url(self) -> Optional[str]:
        return self._get().get("url") or None

    @property
    def os_path(self) -> Optional[str]:
        return self._get().get("os_path") or None

    @property
    def to_print(self) -> Optional[bool]:
        return self._get().get("to_print")

    @property
    def to_select(self) -> Optional[bool]:
        return self._get().get("to_select")

    @property
    def start_cmd_id(self) -> Optional[int]:
        return self._get().get("start_cmd_id")

    @property
    def hash(self) -> Optional[str]:
        return self._get().get("hash") or None

    @property
    def team_id(self):
        return _team_id(self._get().get("team_id"))

    @property
    def size(self) -> Optional[int]:
        """The announced size in bytes, None while unknown."""
        return self._get().get("size")

    @property
    def transferred(self) -> int:
        return self._get().get("transferred", 0)

    @property
    def progress(self) -> float:
        """transferred / size * 100, 0.0 when the size is unknown."""
        return self._get().get("progress", 0.0)

    @property
    def outcome(self) -> Optional[Event]:
        """How the last transfer ended (TRANSFER_FINISHED, TRANSFER_STOPPED
        or TRANSFER_ABORTED), None while running or before the first
        (libprusaconnect)."""
        outcome = self._get().get("outcome")
        return _EVENTS[outcome] if outcome else None

    @property
    def reason(self) -> Optional[str]:
        """Why the last transfer was aborted (libprusaconnect)."""
        return self._get().get("reason") or None

    def time_remaining(self) -> Optional[int]:
        """Seconds left (estimate), None while unknown, 0 once ended."""
        info = self._get()
        if not info["in_progress"] and info.get("outcome"):
            return 0
        return info.get("time_remaining")

    def time_transferring(self) -> int:
        """Whole seconds since the transfer started (monotonic clock)."""
        return self._get().get("time_transferring", 0)

    def stop(self) -> None:
        """Stops the running transfer (TRANSFER_STOPPED follows); does
        nothing when none runs."""
        printer = self._printer() if self._printer is not None else None
        if printer is not None:
            printer._native.stop_transfer(None)  # pylint: disable=protected-access

    def to_dict(self) -> Dict[str, Any]:
        """The SDK's ``Transfer.to_dict()`` (TRANSFER_INFO's data):
        ``{"type": "NO_TRANSFER"}`` when none runs."""
        return _to_dict(self._get())

    def __repr__(self):
        info = self._get()
        return (f"<Transfer {info.get('transfer_id')} {info.get('type')} "
                f"{info.get('path')!r} in_progress={info.get('in_progress')}>")


def _to_dict(info):
    """download.py's ``Transfer.to_dict()`` of the library's transfer_info."""
    if not info["in_progress"]:
        return {"type": TransferType.NO_TRANSFER.value}
    return {
        "transfer_id": info["transfer_id"],
        "start_cmd_id": info["start_cmd_id"],
        "type": info["type"],
        "path": info["path"],
        "url": info["url"],
        "size": info["size"],
        "progress": round(info["progress"], 2),
        "transferred": info["transferred"],
        "time_remaining": info["time_remaining"],
        "time_transferring": info["time_transferring"],
        "to_print": info["to_print"],
    }


class DownloadMgr:
    """``printer.download_mgr``: starts, stops and describes downloads."""

    BIG_BUFFER = 1024 * 100
    SMALL_BUFFER = 1024
    LOOP_INTERVAL = .1
    VALID_MIME_TYPES = ('text/plain', 'text/x.gcode', 'application/binary',
                        'application/octet-stream')

    def __init__(self, printer, rate_limit: int = 0):
        self._printer = weakref.ref(printer)
        self.transfer = Transfer(printer)
        # Only used to turn ``throttle`` into a rate limit.
        self.buffer_size = self.BIG_BUFFER
        self.__rate_limit = max(0, int(rate_limit))
        self.__throttle = 0.0 if not self.__rate_limit else self.buffer_size / self.__rate_limit
        self.__loop_stop = threading.Event()
        self.__running_loop = False

    def _native(self):
        printer = self._printer()
        if printer is None:
            raise RuntimeError("the Printer object no longer exists")
        return printer._native  # pylint: disable=protected-access

    def start(self,
              type_: TransferType,
              path: str,
              url: Optional[str] = None,
              to_print: Optional[bool] = None,
              to_select: Optional[bool] = None,
              start_cmd_id: Optional[int] = None,
              hash_: Optional[str] = None,
              team_id: Optional[int] = None) -> Dict[str, Any]:
        """Starts downloading ``url`` into the virtual ``path``
        ("/<storage>/...") and returns the SDK's answer: TRANSFER_INFO
        (source WUI) with ``to_dict()``, or REJECTED "Another transfer in
        progress" when one runs. ValueError for a bad URL, name, storage or
        destination and RuntimeError for the file being printed or a size
        over the limits, all before anything is written. ``start_cmd_id``,
        ``hash_`` and ``team_id`` are accepted for compatibility; the
        library records them only for the transfers Connect starts."""
        # pylint: disable=too-many-arguments,unused-argument
        if type_.__class__ is not TransferType and type_ not in _TYPES:
            raise TypeError(f"type_ must be a const.TransferType, not {type_!r}")
        type_text = type_.value if type_.__class__ is TransferType else type_
        _check_names(str(path))
        try:
            started = self._native().start_download(type_text, str(path), url or "",
                                                    bool(to_print), bool(to_select))
        except FileExistsError as err:
            if str(err) != _ALREADY_RUNNING:
                raise
            return {
                "event": Event.REJECTED,
                "source": Source.CONNECT,
                "reason": _ALREADY_RUNNING,
            }
        except FileNotFoundError as err:
            # An unknown storage is the SDK's ValueError("Invalid storage ...").
            raise ValueError(str(err)) from None
        retval = _to_dict(transfer_dict(started))  # as it started, whatever arrived since
        retval["event"] = Event.TRANSFER_INFO
        retval["source"] = Source.WUI
        return retval

    def stop(self) -> None:
        """Stops the running transfer, if any (libprusaconnect; the SDK
        does it with ``transfer.stop()``)."""
        self._native().stop_transfer(None)

    def info(self) -> Dict[str, Any]:
        """TRANSFER_INFO's data: ``transfer.to_dict()``."""
        return self.transfer.to_dict()

    @property
    def download_finished_cb(self) -> Optional[Callable[[Transfer], Any]]:
        """The same callback as ``printer.download_finished_cb``."""
        printer = self._printer()
        return printer.download_finished_cb if printer is not None else None

    @download_finished_cb.setter
    def download_finished_cb(self, value):
        printer = self._printer()
        if printer is not None:
            printer.download_finished_cb = value

    @property
    def printed_file_cb(self):
        """The same callback as ``printer.printed_file_cb``."""
        printer = self._printer()
        return printer.printed_file_cb if printer is not None else None

    @printed_file_cb.setter
    def printed_file_cb(self, value):
        printer = self._printer()
        if printer is not None:
            printer.printed_file_cb = value

    @property
    def rate_limit(self) -> int:
        """The download rate limit in bytes per second, 0 = none
        (libprusaconnect); applies to a running transfer too."""
        return self.__rate_limit

    @rate_limit.setter
    def rate_limit(self, value):
        value = max(0, int(value or 0))
        self._native().set_transfer_rate_limit(value)
        self.__rate_limit = value
        self.__throttle = 0.0 if value == 0 else self.buffer_size / value

    @property
    def throttle(self) -> float:
        """The SDK's pause after each ``buffer_size`` chunk, in seconds:
        here a rate limit of ``buffer_size / throttle`` bytes per second."""
        return self.__throttle

    @throttle.setter
    def throttle(self, value):
        value = float(value or 0)
        if value < 0:
            raise ValueError("throttle must not be negative")
        rate = 0 if value == 0 else max(1, int(self.buffer_size / value))
        self.rate_limit = rate
        self.__throttle = value

    def loop(self) -> None:
        """Returns after :meth:`stop_loop`. Downloads run on the library's
        own thread; the SDK's programs run this in a thread of their own."""
        self.__loop_stop.clear()
        self.__running_loop = True
        try:
            while not self.__loop_stop.wait(0.2):
                pass
        finally:
            self.__running_loop = False

    @property
    def running_loop(self) -> bool:
        """True while :meth:`loop` runs."""
        return self.__running_loop

    def stop_loop(self) -> None:
        """Ends :meth:`loop` (a running download goes on; stop it with
        :meth:`stop`)."""
        self.__loop_stop.set()

