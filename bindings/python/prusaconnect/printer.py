"""The Printer: ``prusa.connect.printer.Printer`` on top of libprusaconnect.

The public surface is the SDK's (0.8.1): the constructor, the identity
properties set once, ``set_connection``/``connection_from_config``,
``register()``, ``telemetry(**kw)``, ``set_state``, ``event_cb``, handlers,
``command()``, ``loop()``/``stop_loop()`` and the attributes SEND_INFO
reports. Underneath, the C++ library queues, sends (on its own network
thread, shared by all printers), retries and answers Connect; see
docs/PYTHON.md for the few differences.
"""
import dataclasses
import json
import logging
import threading
import urllib.parse
from typing import Any, Callable, Dict, List, Optional

from . import const
from ._prusaconnect import (EventFields, NetworkInfo, PrinterOptions, PythonPrinter,
                            SheetSettings, standard_command_definitions)
from .camera import CameraController
from .command import Command, CommandFailed, enum_value, event_parts, int_id
from .conditions import PrinterConditions, _bind_default
from .download import DownloadMgr, Transfer, transfer_dict
from .files import (Filesystem, StorageInUseError, StorageProvider, UnknownStorageError)
from .models import Sheet
from .util import _struct_dict

log = logging.getLogger("connect-printer")

__all__ = ["Printer", "default_register_handler"]

# A command handler: gets printer.command, returns the kwargs of Command.finish.
Handler = Callable[[Command], Dict[str, Any]]

_NETWORK_INFO_KEYS = ("lan_mac", "lan_ipv4", "lan_ipv6", "wifi_mac",
                      "wifi_ipv4", "wifi_ipv6", "wifi_ssid", "hostname",
                      "username", "digest")
_INFO_KEYS = ("type", "version", "subversion", "firmware", "sdk",
              "network_info", "api_key", "files", "sn", "fingerprint", "mbl",
              "sheet_settings", "active_sheet")
_STATES = const.State._value2member_map_
_TYPES = {str(t): t for t in const.PrinterType}
_REGISTRATION = const.RegistrationStatus._value2member_map_
# Built-in handlers the library runs itself (fast, no Python involved).
_NATIVE_BUILTINS = (const.Command.SEND_INFO, const.Command.SEND_STATE_INFO,
                    const.Command.SEND_FILE_INFO, const.Command.CREATE_FOLDER,
                    const.Command.CREATE_DIRECTORY, const.Command.DELETE_FILE,
                    const.Command.DELETE_FOLDER, const.Command.DELETE_DIRECTORY,
                    const.Command.START_URL_DOWNLOAD,
                    const.Command.START_CONNECT_DOWNLOAD,
                    const.Command.STOP_TRANSFER,
                    const.Command.SEND_TRANSFER_INFO)
# Loop slices in the main thread, so that Ctrl-C interrupts loop().
_MAIN_THREAD_LOOP_SLICE_MS = 200


def default_register_handler(token: str) -> None:
    """The SDK's default: just checks that a token came."""
    assert token


def _reason(err: BaseException) -> str:
    """An exception's text for a FAILED reason."""
    return str(err) or type(err).__name__


def _text(value):
    return value if value else None


def _info_text(value) -> str:
    """A network_info value as SEND_INFO carries it ("" = not set)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def _event_fields(timestamp, command_id, job_id, transfer_id, dialog_id, reason):
    """The library's EventFields (falsy values are absent, as in the SDK)."""
    fields = EventFields()
    if timestamp:
        fields.timestamp = float(timestamp)
    if command_id:
        fields.command_id = int_id(command_id, "command_id")
    if job_id:
        fields.job_id = int_id(job_id, "job_id")
    if transfer_id:
        fields.transfer_id = int_id(transfer_id, "transfer_id")
    if dialog_id:
        fields.dialog_id = int_id(dialog_id, "dialog_id")
    if reason:
        fields.reason = str(reason)
    return fields


class _NetworkInfo(dict):
    """``Printer.network_info``: a dict whose changes reach SEND_INFO."""

    def __init__(self, printer, values):
        super().__init__(values)
        self._printer = printer

    def _push(self):
        info = NetworkInfo()
        for key in _NETWORK_INFO_KEYS:
            setattr(info, key, _info_text(self.get(key)))
        self._printer._native.set_network_info(info)  # pylint: disable=protected-access

    def __setitem__(self, key, value):
        dict.__setitem__(self, key, value)
        self._push()

    def __delitem__(self, key):
        dict.__delitem__(self, key)
        self._push()

    def update(self, *args, **kwargs):
        dict.update(self, *args, **kwargs)
        self._push()

    def __ior__(self, other):
        dict.update(self, other)
        self._push()
        return self

    def pop(self, *args):
        value = dict.pop(self, *args)
        self._push()
        return value

    def popitem(self):
        item = dict.popitem(self)
        self._push()
        return item

    def clear(self):
        dict.clear(self)
        self._push()

    def setdefault(self, key, default=None):
        value = dict.setdefault(self, key, default)
        self._push()
        return value



def _definition_dict(definition: Any) -> Dict[str, Any]:
    """A command definition as Connect's JSON: a dict as it is, a
    prusaconnect.client.CommandDefinition (a dataclass) converted."""
    if isinstance(definition, dict):
        return definition
    if dataclasses.is_dataclass(definition):
        return dataclasses.asdict(definition)
    raise TypeError(f"a command definition is a dict or a CommandDefinition, not {definition!r}")

def _sheet(value) -> SheetSettings:
    """One of Printer.sheet_settings: {"name": str, "z_offset": float}."""
    sheet = SheetSettings()
    try:
        name, z_offset = value["name"], value.get("z_offset", 0.0)
        if not isinstance(name, str) or isinstance(z_offset, bool):
            raise TypeError
        sheet.name = name
        sheet.z_offset = float(z_offset)
    except (TypeError, KeyError, AttributeError, ValueError):
        raise ValueError(
            "sheet_settings must be a list of {'name': str, 'z_offset': float}") from None
    return sheet


class Printer:
    """A printer connected to Prusa Connect."""
    # pylint: disable=too-many-public-methods,too-many-instance-attributes

    NOT_INITIALISED_MSG: str = "Printer has not been initialized properly"
    command: Command
    conditions: PrinterConditions
    fs: Filesystem
    transfer: Transfer
    download_mgr: DownloadMgr
    camera_controller: CameraController
    register_handler: Callable[[str], Any]

    def __init__(self,
                 type_: Optional[const.PrinterType] = None,
                 sn: Optional[str] = None,
                 fingerprint: Optional[str] = None,
                 max_retries: int = 1,
                 mmu_supported: bool = True,
                 *,
                 background_handlers: bool = False,
                 verify_tls: bool = True,
                 ca_file: Optional[str] = None,
                 event_buffer_size: int = 1000,
                 request_timeout: float = const.CONNECTION_TIMEOUT,
                 register_poll_interval: float = 1.0,
                 backoff_min: float = 0.1,
                 backoff_max: float = 60.0,
                 transfer_max_size: int = 0,
                 transfer_rate_limit: int = 0,
                 transfer_max_retries: int = 5,
                 transfer_backoff_min: float = 0.5,
                 transfer_backoff_max: float = 15.0,
                 transfer_connect_timeout: float = 10.0,
                 transfer_stall_timeout: float = 30.0,
                 transfer_staging_dir: Optional[str] = None) -> None:
        """``max_retries`` is accepted for compatibility: every request is
        retried with backoff anyway. The keyword-only arguments are
        libprusaconnect's (PrinterOptions): ``background_handlers`` runs
        handlers on library threads as soon as a command is accepted,
        without ``command()``; the ``transfer_*`` ones are TransferOptions
        (size and rate limits in bytes and bytes/s, 0 = none); times are in
        seconds."""
        # pylint: disable=too-many-arguments,too-many-locals,unused-argument
        options = PrinterOptions()
        options.mmu_supported = bool(mmu_supported)
        options.background_handlers = bool(background_handlers)
        options.verify_tls = bool(verify_tls)
        options.ca_file = ca_file or ""
        options.event_buffer_size = max(1, int(event_buffer_size))
        options.request_timeout_ms = int(request_timeout * 1000)
        options.register_poll_interval_ms = int(register_poll_interval * 1000)
        options.backoff_min_ms = int(backoff_min * 1000)
        options.backoff_max_ms = int(backoff_max * 1000)
        transfer = options.transfer
        transfer.max_size = max(0, int(transfer_max_size))
        transfer.max_bytes_per_second = max(0, int(transfer_rate_limit))
        transfer.max_retries = max(0, int(transfer_max_retries))
        transfer.retry_backoff_min_ms = int(transfer_backoff_min * 1000)
        transfer.retry_backoff_max_ms = int(transfer_backoff_max * 1000)
        transfer.connect_timeout_ms = int(transfer_connect_timeout * 1000)
        transfer.stall_timeout_ms = int(transfer_stall_timeout * 1000)
        transfer.staging_dir = str(transfer_staging_dir or "")
        options.transfer = transfer
        self.__mmu_supported = bool(mmu_supported)
        self._native = PythonPrinter(self, self._type_text(type_) or None, sn or "",
                                     fingerprint or "", options)
        self.__loop_stop = threading.Event()
        self.__network_info = _NetworkInfo(
            self, {key: None for key in _NETWORK_INFO_KEYS})
        self.__api_key: Optional[str] = None
        self.__mbl: Optional[List[float]] = None
        self.__sheet_settings = None
        self.__active_sheet: Optional[int] = None
        self.__mmu_enabled = False
        self.__mmu_fw: Optional[str] = None
        self.__mmu_type: Optional[const.MMUType] = None
        self.__running_loop = False
        self.__warned_state = False
        self.register_handler = default_register_handler
        self.__printed_file_cb: Callable[[], Optional[str]] = lambda: None
        self.__download_finished_cb: Optional[Callable[[Transfer], Any]] = None
        self.download_finished_cb = lambda transfer: None
        self.fs = Filesystem(self)
        # Providers of attach_storage(), by storage name (_storage_call).
        self._storages: Dict[str, StorageProvider] = {}
        self.__storage_lock = threading.Lock()
        self.transfer = Transfer(self)
        self.download_mgr = DownloadMgr(self, transfer.max_bytes_per_second)
        self.camera_controller = CameraController(self)

        self.command = Command(self)
        handlers = self.command.handlers
        handlers[const.Command.SEND_INFO] = self.send_info
        handlers[const.Command.SEND_STATE_INFO] = self.get_state_info
        handlers[const.Command.SET_PRINTER_READY] = self.set_printer_ready
        handlers[const.Command.CANCEL_PRINTER_READY] = self.cancel_printer_ready
        handlers[const.Command.DIALOG_ACTION] = self.dialog_action
        handlers[const.Command.SEND_FILE_INFO] = self.get_file_info
        handlers[const.Command.CREATE_FOLDER] = self.create_folder
        handlers[const.Command.CREATE_DIRECTORY] = self.create_folder
        handlers[const.Command.DELETE_FILE] = self.delete_file
        handlers[const.Command.DELETE_FOLDER] = self.delete_folder
        handlers[const.Command.DELETE_DIRECTORY] = self.delete_folder
        handlers[const.Command.START_URL_DOWNLOAD] = self.start_url_download
        handlers[const.Command.START_CONNECT_DOWNLOAD] = self.start_connect_download
        handlers[const.Command.STOP_TRANSFER] = self.transfer_stop
        handlers[const.Command.SEND_TRANSFER_INFO] = self.transfer_info

        self.conditions = PrinterConditions(self)
        _bind_default(self)

    # ------------------------------------------------------------ helpers
    @staticmethod
    def _type_text(type_):
        if type_ is None:
            return ""
        if type_.__class__ is const.PrinterType:
            return str(type_)
        if isinstance(type_, str):
            return type_
        raise TypeError(f"type_ must be a const.PrinterType, not {type_!r}")

    def _is_native_builtin(self, cmd, handler):
        """True for the library's own built-in handler of ``cmd``."""
        return (cmd in _NATIVE_BUILTINS
                and getattr(handler, "__self__", None) is self
                and getattr(handler, "__func__", None) is _BUILTINS.get(cmd))

    @staticmethod
    def connect_url(host: str, tls: bool, port: int = 0) -> str:
        """Format url from settings value.

        >>> Printer.connect_url('connect', True)
        'https://connect'
        >>> Printer.connect_url('connect', False, 8000)
        'http://connect:8000'
        """
        return PythonPrinter.connect_url(host, bool(tls), int(port or 0))

    # ------------------------------------------------------------ identity
    @property
    def fingerprint(self) -> Optional[str]:
        return _text(self._native.fingerprint())

    @fingerprint.setter
    def fingerprint(self, value: str) -> None:
        self._native.set_fingerprint(value or "")

    @property
    def sn(self) -> Optional[str]:
        return _text(self._native.sn())

    @sn.setter
    def sn(self, value: str) -> None:
        self._native.set_sn(value or "")

    @property
    def type(self) -> Optional[const.PrinterType]:
        text = self._native.type()
        return _TYPES.get(text) if text else None

    @type.setter
    def type(self, value: const.PrinterType) -> None:
        if value is None:
            raise TypeError("a printer type is required")
        self._native.set_type(self._type_text(value))

    def is_initialised(self) -> bool:
        """True when sn, fingerprint and type are set (else API goes NOK)."""
        return self._native.is_initialised()

    # ------------------------------------------------------------ SEND_INFO data
    @property
    def firmware(self) -> Optional[str]:
        return _text(self._native.firmware())

    @firmware.setter
    def firmware(self, value: Optional[str]) -> None:
        self._native.set_firmware(str(value) if value is not None else "")

    @property
    def software(self) -> Optional[str]:
        return _text(self._native.software())

    @software.setter
    def software(self, value: Optional[str]) -> None:
        self._native.set_software(str(value) if value is not None else "")

    @property
    def network_info(self) -> Dict[str, Optional[str]]:
        return self.__network_info

    @network_info.setter
    def network_info(self, value: Dict[str, Optional[str]]) -> None:
        self.__network_info = _NetworkInfo(self, value)
        self.__network_info._push()  # pylint: disable=protected-access

    @property
    def api_key(self) -> Optional[str]:
        return self.__api_key

    @api_key.setter
    def api_key(self, value: Optional[str]) -> None:
        self.__api_key = value
        self._native.set_api_key(str(value) if value is not None else "")

    @property
    def mbl(self) -> Optional[List[float]]:
        return self.__mbl

    @mbl.setter
    def mbl(self, value: Optional[List[float]]) -> None:
        if value is None:
            if self.__mbl is not None:
                self._native.clear_mbl()
        else:
            try:
                values = [float(v) for v in value]
            except (TypeError, ValueError):
                raise ValueError("mbl must be a list of numbers or None") from None
            self._native.set_mbl(values)
        self.__mbl = value

    @property
    def sheet_settings(self) -> Optional[List[Sheet]]:
        return self.__sheet_settings

    @sheet_settings.setter
    def sheet_settings(self, value: Optional[List[Sheet]]) -> None:
        if value is None:
            if self.__sheet_settings is not None:
                self._native.clear_sheet_settings()
        else:
            self._native.set_sheet_settings([_sheet(v) for v in value])
        self.__sheet_settings = value

    @property
    def active_sheet(self) -> Optional[int]:
        return self.__active_sheet

    @active_sheet.setter
    def active_sheet(self, value: Optional[int]) -> None:
        self._native.set_active_sheet(
            None if value is None else int_id(value, "active_sheet"))
        self.__active_sheet = value

    @property
    def mmu_supported(self) -> bool:
        """Set by the constructor (``mmu_supported=``)."""
        return self.__mmu_supported

    def _push_mmu(self, enabled, fw, mmu_type):
        """Validates, hands the values to the library, then keeps them: a
        refused value leaves the printer as it was."""
        self._native.set_mmu(
            bool(enabled), fw or "",
            enum_value(mmu_type, const.MMUType, "mmu_type") if mmu_type else None)
        self.__mmu_enabled, self.__mmu_fw, self.__mmu_type = enabled, fw, mmu_type

    @property
    def mmu_enabled(self) -> bool:
        return self.__mmu_enabled

    @mmu_enabled.setter
    def mmu_enabled(self, value: bool) -> None:
        self._push_mmu(value, self.__mmu_fw, self.__mmu_type)

    @property
    def mmu_fw(self) -> Optional[str]:
        return self.__mmu_fw

    @mmu_fw.setter
    def mmu_fw(self, value: Optional[str]) -> None:
        self._push_mmu(self.__mmu_enabled, value, self.__mmu_type)

    @property
    def mmu_type(self) -> Optional[const.MMUType]:
        return self.__mmu_type

    @mmu_type.setter
    def mmu_type(self, value: Optional[const.MMUType]) -> None:
        self._push_mmu(self.__mmu_enabled, self.__mmu_fw, value)

    @property
    def job_id(self) -> Optional[int]:
        return self._native.job_id()

    @job_id.setter
    def job_id(self, value: Optional[int]) -> None:
        self._native.set_job_id(None if value is None else int_id(value, "job_id") or None)

    def set_supported_commands(self, definitions: Optional[List[Any]] = None) -> None:
        """Declares the commands this printer accepts (docs/commands.md): a
        command with a definition is checked before any handler runs (a
        missing argument, a wrong JSON type, a state it cannot run from →
        REJECTED with the reason; defaults filled in) and the definitions go
        to Connect in SEND_INFO. ``definitions``: dicts in Connect's form
        (``{"command": "MOVE", "args": [{"name": "x", "type": "number"}],
        "executable_from_state": ["IDLE"]}``) or
        ``prusaconnect.client.CommandDefinition``; None: the standard
        definitions of the commands the printer handles now; []: none."""
        if definitions is None:
            definitions = standard_command_definitions(self._native.handled_commands())
        self._native.set_supported_commands([_definition_dict(d) for d in definitions])

    def supported_commands(self) -> List[Dict[str, Any]]:
        """The declared definitions, in Connect's JSON form."""
        return self._native.supported_commands()

    def handled_commands(self) -> List[const.Command]:
        """The commands something answers: handlers, the library's, built-ins."""
        return [const.Command(name) for name in self._native.handled_commands()]

    def get_info(self) -> Dict[str, Any]:
        """The kwargs of ``Command.finish`` answering SEND_INFO."""
        data = self._native.get_info()
        info: Dict[str, Any] = {
            "source": const.Source.CONNECT,
            "event": const.Event.INFO,
            "state": self.state,
        }
        for key in _INFO_KEYS:
            info[key] = data.pop(key, None)
        info["network_info"] = self.__network_info
        info["api_key"] = self.__api_key
        info["mbl"] = self.__mbl
        info["sheet_settings"] = self.__sheet_settings
        info["active_sheet"] = self.__active_sheet
        info.update(data)  # mmu, slots, files-feature and extra keys
        return info

    # ------------------------------------------------------------ connection
    @property
    def server(self) -> Optional[str]:
        return _text(self._native.server())

    @server.setter
    def server(self, value: Optional[str]) -> None:
        self._native.set_connection(value or "", self._native.token())

    @property
    def token(self) -> Optional[str]:
        return _text(self._native.token())

    @token.setter
    def token(self, value: Optional[str]) -> None:
        self._native.set_connection(self._native.server(), value or "")

    @property
    def code(self) -> Optional[str]:
        """The pending registration code, None when there is none."""
        return _text(self._native.code())

    @property
    def registration_status(self) -> const.RegistrationStatus:
        return _REGISTRATION[self._native.registration_status()]

    def set_connection(self, server: Optional[str], token: Optional[str]) -> None:
        """Sets the server URL and the printer's token."""
        self._native.set_connection(server or "", token or "")

    def connection_from_config(self, path: str) -> None:
        """Reads [service::connect] of a prusa_printer_settings.ini."""
        try:
            self._native.connection_from_config(str(path))
        except ValueError as err:
            if "missing" in str(err):  # configparser raises KeyError here
                raise KeyError(str(err)) from None
            raise

    def register(self) -> str:
        """Registers the printer with Connect and returns the temporary code
        to type into Connect's "Add printer" form. The library then polls
        for the token and calls ``register_handler(token)``.
        RuntimeError when Connect refuses (or no server is set), with the
        answer's text as the SDK's; ConnectionError when it cannot be
        reached."""
        try:
            return self._native.register_printer()
        except ConnectionError as err:
            if str(err).startswith("cannot reach"):
                raise
            raise RuntimeError(str(err)) from None
        except RuntimeError:
            raise
        except Exception as err:  # pylint: disable=broad-except
            raise RuntimeError(str(err)) from None

    def _on_register(self, token):
        """Called by the library (callback thread) with the new token."""
        try:
            self.register_handler(token)
        except Exception:  # pylint: disable=broad-except
            log.exception("register_handler failed")

    # ------------------------------------------------------------ state, events
    @property
    def state(self) -> const.State:
        return _STATES[self._native.state()]

    @property
    def ready(self) -> bool:
        return self._native.ready()

    def set_state(self,
                  state: const.State,
                  source: const.Source,
                  ready: Optional[bool] = None,
                  **kwargs: Any) -> None:
        """Sets the state and emits STATE_CHANGED (PRINTING clears ready)."""
        if "state" in kwargs:
            raise TypeError(
                "set_state() got multiple values for keyword argument 'state'")
        fields = _event_fields(kwargs.pop("timestamp", None), kwargs.pop("command_id", None),
                               kwargs.pop("job_id", None), kwargs.pop("transfer_id", None),
                               kwargs.pop("dialog_id", None), kwargs.pop("reason", None))
        self._native.set_state(
            enum_value(state, const.State, "state"),
            enum_value(source, const.Source, "source"),
            None if ready is None else bool(ready), fields, kwargs)

    def event_cb(self,
                 event: const.Event,
                 source: const.Source,
                 timestamp: Optional[float] = None,
                 command_id: Optional[int] = None,
                 **kwargs: Any) -> None:
        """Queues an event; keywords other than job_id, transfer_id,
        reason, state and dialog_id go into its data. Dropped without a
        token, as in the SDK."""
        fields = _event_fields(timestamp, command_id, kwargs.pop("job_id", None),
                               kwargs.pop("transfer_id", None), kwargs.pop("dialog_id", None),
                               kwargs.pop("reason", None))
        # As the SDK: without a "state" keyword the printer's state is sent;
        # an explicit state=None sends no "state" key at all.
        if "state" in kwargs:
            state = kwargs.pop("state")
            if state is None:
                fields.omit_state = True
            else:
                fields.state = enum_value(state, const.State, "state")
        self._native.event_cb(
            enum_value(event, const.Event, "event"),
            enum_value(source, const.Source, "source"), fields, kwargs)

    def telemetry(self,
                  state: Optional[const.State] = None,
                  timestamp: Optional[float] = None,
                  **kwargs: Any) -> None:
        """Queues telemetry (send it at least once a second). None values
        are dropped; the printer's state, command_id and job_id are added.
        ``state`` is ignored (deprecated in the SDK; use set_state)."""
        if state is not None and not self.__warned_state:
            self.__warned_state = True
            log.warning("State argument is deprecated. Use set_state method.")
        self._native.telemetry(kwargs, float(timestamp) if timestamp and timestamp > 0 else None)

    # ------------------------------------------------------------ handlers
    def set_handler(self, command: const.Command, handler: Handler) -> None:
        """Sets the handler of ``command``: it receives ``printer.command``
        and returns the kwargs of ``Command.finish`` (``source`` at least)."""
        self.command.handlers[command] = handler

    def handler(self, command: const.Command) -> Callable[[Handler], Handler]:
        """Decorator form of :meth:`set_handler`."""

        def wrapper(handler: Handler) -> Handler:
            self.set_handler(command, handler)
            return handler

        return wrapper

    def _run_handler(self, command_id, command_name, args, kwargs, force):
        """Called by the library in the thread running the command."""
        cmd = self.command
        cmd._started(command_id, command_name, args, kwargs, force)  # pylint: disable=protected-access
        try:
            handler = cmd.handlers[const.Command(command_name)]
            result = handler(cmd)
            return cmd._collect(command_id, result)  # pylint: disable=protected-access
        except Exception as err:  # pylint: disable=broad-except
            log.exception("")
            return repr(err)

    def _on_stop(self):
        """Called by the library (callback thread) when RESET_PRINTER
        preempts a running command."""
        try:
            self.command.stop_cb()
        except Exception:  # pylint: disable=broad-except
            log.exception("stop_cb failed")

    def _on_condition(self, name, ok, old):
        try:
            self.conditions._changed(name, ok, old)  # pylint: disable=protected-access
        except Exception:  # pylint: disable=broad-except
            log.exception("condition handler failed")

    def wait_for_command(self, timeout: Optional[float] = None) -> bool:
        """Waits until a command is ready for ``command()``; True if one is.
        ``timeout`` in seconds, None = forever (interruptible)."""
        if timeout is not None:
            return self._native.wait_for_command(int(timeout * 1000))
        while not self._native.wait_for_command(_MAIN_THREAD_LOOP_SLICE_MS):
            pass
        return True

    # ---- the built-in handlers (the library runs SEND_INFO and
    # SEND_STATE_INFO itself; these are for handlers that wrap them) ----
    def send_info(self, caller: Command) -> Dict[str, Any]:
        # pylint: disable=unused-argument
        return self.get_info()

    def get_state_info(self, caller: Command) -> Dict[str, Any]:
        # pylint: disable=unused-argument
        return {
            "source": const.Source.CONNECT,
            "event": const.Event.STATE_CHANGED,
            "state": self.state,
        }

    def set_printer_ready(self, caller: Command) -> Dict[str, Any]:
        """READY; refused while printing (COMPATIBILITY.md Q50)."""
        # pylint: disable=unused-argument
        state = self.state
        if state in (const.State.PRINTING, const.State.PAUSED):
            raise ValueError(f"Can't set ready while {state.value}")
        self.set_state(const.State.READY, const.Source.CONNECT, ready=True)
        return {'source': const.Source.CONNECT}

    def cancel_printer_ready(self, caller: Command) -> Dict[str, Any]:
        # pylint: disable=unused-argument
        if self.ready:
            self.set_state(const.State.IDLE, const.Source.CONNECT, ready=False)
            return {'source': const.Source.CONNECT}
        raise ValueError("Can't cancel, printer isn't ready")

    def dialog_action(self, caller: Command) -> Dict[str, Any]:
        if not caller.kwargs:
            raise ValueError(f"{const.Command.DIALOG_ACTION} requires kwargs")
        return {'source': const.Source.CONNECT}

    def get_file_info(self, caller: Command) -> Dict[str, Any]:
        """SEND_FILE_INFO (the library answers it itself unless overridden)."""
        if not caller.kwargs or "path" not in caller.kwargs:
            raise ValueError("SEND_FILE_INFO requires kwargs")
        info: Dict[str, Any] = {"source": const.Source.CONNECT, "event": const.Event.FILE_INFO}
        info.update(self._native.fs().FileInfo(caller.kwargs["path"]))
        return info

    def create_folder(self, caller: Command) -> Dict[str, Any]:
        if not caller.kwargs or "path" not in caller.kwargs:
            raise ValueError(f"{caller.command_name} requires kwargs")
        self._native.fs().CreateFolder(caller.kwargs["path"])
        return {"source": const.Source.CONNECT}

    def delete_file(self, caller: Command) -> Dict[str, Any]:
        if not caller.kwargs or "path" not in caller.kwargs:
            raise ValueError(f"{caller.command_name} requires kwargs")
        self._native.fs().DeleteFile(caller.kwargs["path"])
        return {"source": const.Source.CONNECT}

    def delete_folder(self, caller: Command) -> Dict[str, Any]:
        if not caller.kwargs or "path" not in caller.kwargs:
            raise ValueError(f"{caller.command_name} requires kwargs")
        self._native.fs().DeleteFolder(caller.kwargs["path"],
                                       bool(caller.kwargs.get("force", False)))
        return {"source": const.Source.CONNECT}

    # ------------------------------------------------------------ files
    def inotify_handler(self) -> None:
        """Delivers the file changes of attached folders that the kernel
        has reported and the library's watcher has not processed yet
        (FILE_CHANGED is queued when it returns), as the SDK's loop calls
        it. The library watches by itself, so calling it is never needed;
        it is cheap and safe from any thread at any rate. Releases the GIL."""
        self._native.fs().ProcessPendingChanges()

    def attach_storage(self, provider: StorageProvider) -> None:
        """Attaches a storage the host keeps (a StorageProvider): lists it
        (MEDIUM_INSERTED), puts its tree into SEND_INFO, hands it the file
        commands and downloads into "/<provider.name>/...". ValueError for a
        bad name, FileExistsError for a name in use, the provider's own
        exception when list() fails. Releases the GIL."""
        if not isinstance(provider, StorageProvider):
            raise TypeError("attach_storage() takes a prusaconnect.files.StorageProvider")
        name = str(provider.name)
        can_store = type(provider).store_file is not StorageProvider.store_file
        with self.__storage_lock:
            if name in self._storages:
                raise StorageInUseError(f"`{name}` is already used")
            self._storages[name] = provider
        try:
            self._native.attach_python_storage(name, can_store)
        except FileExistsError as err:
            with self.__storage_lock:
                self._storages.pop(name, None)
            raise StorageInUseError(str(err)) from None
        except BaseException:
            with self.__storage_lock:
                self._storages.pop(name, None)
            raise

    def refresh_storage(self, name: str) -> None:
        """Lists a provider's storage again; every difference from before
        goes to Connect as FILE_CHANGED. Releases the GIL."""
        self._native.fs().Refresh(str(name))

    def _storage_call(self, name, method, args):
        """Called by the library (a library thread, with the GIL) to run a
        provider method: ("OK", result) or (code, message)."""
        provider = self._storages.get(name)
        if provider is None:
            return ("UNAVAILABLE", f"storage {name!r} is detached")
        try:
            result = getattr(provider, method)(*args)
            if method == "list" and not isinstance(result, dict):
                return ("INVALID_ARGUMENT", f"list() must return a dict, not {result!r}")
            return ("OK", result)
        except FileNotFoundError as err:
            return ("NOT_FOUND", _reason(err))
        except FileExistsError as err:
            return ("ALREADY_EXISTS", _reason(err))
        except PermissionError as err:
            return ("PERMISSION_DENIED", _reason(err))
        except NotImplementedError as err:
            return ("UNIMPLEMENTED", _reason(err) or f"{method} is not supported by this storage")
        except ValueError as err:
            return ("INVALID_ARGUMENT", _reason(err))
        except RuntimeError as err:
            return ("FAILED_PRECONDITION", _reason(err))
        except Exception as err:  # pylint: disable=broad-except
            log.exception("storage %r: %s() failed", name, method)
            return ("INTERNAL", f"{method}() raised {err!r}")

    def attach(self, folderpath: str, storage: str) -> None:
        """Lists `folderpath` and attaches it as `storage` ("/<storage>/..."
        in Connect), watching it for changes; emits MEDIUM_INSERTED.
        ValueError for a bad name, InvalidStorageError (a ValueError, also a
        FileExistsError) for a name in use, FileNotFoundError when the
        folder does not exist."""
        try:
            self._native.attach(str(folderpath), storage)
        except FileExistsError as err:
            raise StorageInUseError(str(err)) from None

    def detach(self, storage: str) -> None:
        """Detaches `storage` (a folder or a provider); emits MEDIUM_EJECTED.
        InvalidStorageError (a ValueError) for a name not attached."""
        try:
            self._native.detach(storage)
        except FileNotFoundError as err:
            raise UnknownStorageError(str(err)) from None
        with self.__storage_lock:
            self._storages.pop(storage, None)

    @property
    def printed_file_cb(self) -> Callable[[], Optional[str]]:
        """Returns the virtual path of the file being printed (or None); the
        delete commands refuse it. Called with the GIL on the thread running
        the command."""
        return self.__printed_file_cb

    @printed_file_cb.setter
    def printed_file_cb(self, value: Callable[[], Optional[str]]) -> None:
        self.__printed_file_cb = value
        self._native.watch_printed_file(value is not None)

    def _printed_file(self):
        try:
            path = self.__printed_file_cb()
        except Exception:  # pylint: disable=broad-except
            log.exception("printed_file_cb failed")
            return None
        return str(path) if path else None

    # ------------------------------------------------------------ transfers
    @property
    def download_finished_cb(self) -> Optional[Callable[[Transfer], Any]]:
        """Called with the finished :class:`Transfer` (a snapshot) after
        TRANSFER_FINISHED, on the bindings' callback thread with the GIL:
        ``transfer.to_print`` / ``to_select`` ask to print or select the
        file. Assigning it works at any time (unlike the SDK, Q27); it is
        the same as ``download_mgr.download_finished_cb``."""
        return self.__download_finished_cb

    @download_finished_cb.setter
    def download_finished_cb(self, value: Optional[Callable[[Transfer], Any]]) -> None:
        if value is not None and not callable(value):
            raise TypeError(f"download_finished_cb must be callable, not {value!r}")
        self.__download_finished_cb = value
        self._native.watch_downloads(value is not None)

    def _camera_capture(self, camera_id):
        """Called by the library (a camera's thread, with the GIL) for an
        image from a camera with a Python driver."""
        return self.camera_controller._capture(camera_id)  # pylint: disable=protected-access

    def _on_camera_token(self, camera_id, fingerprint, token):
        """Called by the library (callback thread) for a new camera token."""
        try:
            self.camera_controller._on_token(camera_id, fingerprint, token)  # pylint: disable=protected-access
        except Exception:  # pylint: disable=broad-except
            log.exception("camera token_cb failed")

    def _on_download_finished(self, info):
        """Called by the library (callback thread) for a finished download."""
        callback = self.__download_finished_cb
        if callback is None:
            return
        try:
            callback(Transfer(info=transfer_dict(info)))
        except Exception:  # pylint: disable=broad-except
            log.exception("download_finished_cb failed")

    # The library answers the transfer commands itself; these return the
    # same answers for handlers that wrap them (without start_cmd_id, which
    # only the library's own handlers record).
    def start_url_download(self, caller: Command) -> Dict[str, Any]:
        """START_URL_DOWNLOAD: kwargs path, url, printing, selecting."""
        name = const.Command.START_URL_DOWNLOAD
        if not caller.kwargs:
            raise ValueError(f"{name} requires kwargs")
        try:
            retval = self.download_mgr.start(
                const.TransferType.FROM_WEB, caller.kwargs["path"],
                caller.kwargs["url"],
                to_print=caller.kwargs.get("printing", False),
                to_select=caller.kwargs.get("selecting", False),
                start_cmd_id=caller.command_id)
        except KeyError as err:
            raise ValueError(f"{name} requires kwarg {err}.") from None
        retval["source"] = const.Source.CONNECT
        return retval

    def start_connect_download(self, caller: Command) -> Dict[str, Any]:
        """START_CONNECT_DOWNLOAD: kwargs path, team_id, hash, printing,
        selecting; the URL is Connect's (team_id and hash percent-encoded)."""
        name = const.Command.START_CONNECT_DOWNLOAD
        if not caller.kwargs:
            raise ValueError(f"{name} requires kwargs")
        if not self.server:
            raise RuntimeError("Printer.server must be set!")
        kwargs = caller.kwargs
        try:
            team_id, hash_, path = kwargs["team_id"], kwargs["hash"], kwargs["path"]
        except KeyError as err:
            raise ValueError(f"{name} requires kwarg {err}.") from None
        url = (self.server.rstrip("/") + "/p/teams/"
               + urllib.parse.quote(str(team_id), safe="") + "/files/"
               + urllib.parse.quote(str(hash_), safe="") + "/raw")
        retval = self.download_mgr.start(
            const.TransferType.FROM_CONNECT, path, url,
            to_print=kwargs.get("printing", False),
            to_select=kwargs.get("selecting", False),
            start_cmd_id=caller.command_id, hash_=hash_, team_id=team_id)
        retval["source"] = const.Source.CONNECT
        return retval

    def transfer_stop(self, caller: Command) -> Dict[str, Any]:
        """STOP_TRANSFER: optional kwarg transfer_id."""
        transfer_id = (caller.kwargs or {}).get("transfer_id")
        if transfer_id and transfer_id != self.transfer.transfer_id:
            raise RuntimeError("Wrong transfer_id")
        self.transfer.stop()
        return {"source": const.Source.CONNECT}

    def transfer_info(self, caller: Command) -> Dict[str, Any]:
        """SEND_TRANSFER_INFO: optional kwarg transfer_id."""
        transfer_id = (caller.kwargs or {}).get("transfer_id")
        if transfer_id and transfer_id != self.transfer.transfer_id:
            raise CommandFailed("Not current transfer.")
        info = self.download_mgr.info()
        info["source"] = const.Source.CONNECT
        info["event"] = const.Event.TRANSFER_INFO
        return info

    # ------------------------------------------------------------ running
    @property
    def running_loop(self) -> bool:
        return self.__running_loop

    def loop(self) -> None:
        """Sends until :meth:`stop_loop` (the traffic itself flows on the
        library's network thread; this only keeps the printer attached).
        The GIL is released while waiting."""
        self.__running_loop = True
        native = self._native
        stop = self.__loop_stop
        stop.clear()
        native.start()
        try:
            if threading.current_thread() is threading.main_thread():
                while not stop.wait(_MAIN_THREAD_LOOP_SLICE_MS / 1000):
                    pass  # lets KeyboardInterrupt through
            else:
                stop.wait()
        finally:
            self.__running_loop = False
            native.stop()

    def stop_loop(self) -> None:
        """Ends :meth:`loop` (from any thread or a handler)."""
        self.__running_loop = False
        self.__loop_stop.set()

    def start(self) -> None:
        """Starts sending without blocking (libprusaconnect)."""
        self._native.start()

    def stop(self) -> None:
        """Stops sending; unsent events stay buffered (libprusaconnect)."""
        self._native.stop()

    def flush(self, timeout: float = 10.0) -> bool:
        """Waits until every queued event has been delivered."""
        return self._native.flush(int(timeout * 1000))

    def stats(self) -> Dict[str, int]:
        """Traffic counters (events/telemetry queued, sent, dropped...)."""
        return _struct_dict(self._native.stats())


_BUILTINS = {
    const.Command.SEND_INFO: Printer.send_info,
    const.Command.SEND_STATE_INFO: Printer.get_state_info,
    const.Command.SET_PRINTER_READY: Printer.set_printer_ready,
    const.Command.CANCEL_PRINTER_READY: Printer.cancel_printer_ready,
    const.Command.DIALOG_ACTION: Printer.dialog_action,
    const.Command.SEND_FILE_INFO: Printer.get_file_info,
    const.Command.CREATE_FOLDER: Printer.create_folder,
    const.Command.CREATE_DIRECTORY: Printer.create_folder,
    const.Command.DELETE_FILE: Printer.delete_file,
    const.Command.DELETE_FOLDER: Printer.delete_folder,
    const.Command.DELETE_DIRECTORY: Printer.delete_folder,
    const.Command.START_URL_DOWNLOAD: Printer.start_url_download,
    const.Command.START_CONNECT_DOWNLOAD: Printer.start_connect_download,
    const.Command.STOP_TRANSFER: Printer.transfer_stop,
    const.Command.SEND_TRANSFER_INFO: Printer.transfer_info,
}
