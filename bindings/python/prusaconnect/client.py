"""The other side of Prusa Connect: Connect's user API for programs that
drive printers (farm scripts), on libprusaconnect's ConnectClient
(include/prusaconnect/client.h; docs/commands.md).

    from prusaconnect.client import ConnectClient, CommandValidationError

    connect = ConnectClient("https://connect.prusa3d.com", token)
    printer = connect.printer("MK4 left")            # by uuid or name
    try:
        connect.send_command(printer.uuid, "START_PRINT", {"path": "/usb/a.gcode"})
    except CommandValidationError as e:
        print("not sent:", e)                        # names the argument or state

A command is checked before anything is sent, against the printer's
supported commands (cached per printer for ``commands_ttl`` seconds) and its
current state. Every call blocks on the network without holding the GIL.
The token is never part of an error or a repr.
"""
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ._prusaconnect import NativeConnectClient

__all__ = ["ConnectClient", "RemotePrinter", "CommandArgument", "CommandDefinition",
           "ConnectError", "CommandValidationError", "ConnectAuthError",
           "PrinterNotFoundError", "ConnectUnavailableError"]


class ConnectError(RuntimeError):
    """Connect refused or failed a request."""


class CommandValidationError(ValueError):
    """The command was refused here, before anything was sent."""


class ConnectAuthError(ConnectError, PermissionError):
    """Connect refused the token (401/403)."""


class PrinterNotFoundError(ConnectError, LookupError):
    """No such printer in Connect."""


class ConnectUnavailableError(ConnectError, ConnectionError):
    """Connect could not be reached, or answered 5xx."""


_ERRORS = {
    "INVALID_ARGUMENT": CommandValidationError,
    "PERMISSION_DENIED": ConnectAuthError,
    "NOT_FOUND": PrinterNotFoundError,
    "UNAVAILABLE": ConnectUnavailableError,
}


def _value(answer: Dict[str, Any]) -> Any:
    if answer["ok"]:
        return answer["value"]
    raise _ERRORS.get(answer["code"], ConnectError)(answer["message"])


@dataclass(frozen=True)
class RemotePrinter:
    """A printer as Connect's user API shows it; ``raw`` is all of it."""
    uuid: str
    name: str
    state: str
    printer_type: str
    sn: str
    firmware: str
    raw: Dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def _from(cls, raw: Dict[str, Any]) -> "RemotePrinter":
        state = raw.get("printer_state") or raw.get("state") or "UNKNOWN"
        return cls(uuid=raw.get("uuid", ""), name=raw.get("name", ""), state=state,
                   printer_type=str(raw.get("printer_type", "")), sn=raw.get("sn", ""),
                   firmware=raw.get("firmware", ""), raw=raw)


@dataclass(frozen=True)
class CommandArgument:
    name: str
    type: str = "any"
    required: bool = False
    default: Any = None
    description: str = ""
    unit: str = ""


@dataclass(frozen=True)
class CommandDefinition:
    command: str
    args: List[CommandArgument]
    executable_from_state: List[str]
    description: str = ""
    template: str = ""

    @classmethod
    def _from(cls, raw: Dict[str, Any]) -> "CommandDefinition":
        return cls(command=raw["command"],
                   args=[CommandArgument(**{k: a[k] for k in a if k in CommandArgument.__annotations__})
                         for a in raw.get("args", [])],
                   executable_from_state=list(raw.get("executable_from_state", [])),
                   description=raw.get("description", ""), template=raw.get("template", ""))


class ConnectClient:
    """Connect's user API. ``server`` is Connect's address, ``token`` the
    user API's bearer token; ``commands_ttl`` (seconds) how long a printer's
    supported commands are kept; ``timeout`` (seconds) each request's limit."""

    def __init__(self, server: str, token: str, *, commands_ttl: float = 300.0,
                 timeout: float = 10.0, verify_tls: bool = True, ca_file: str = ""):
        self._native = NativeConnectClient(server, token, int(commands_ttl * 1000),
                                           int(timeout * 1000), verify_tls, ca_file)
        self.server = server

    def __repr__(self) -> str:
        return f"ConnectClient({self.server!r})"

    def printers(self) -> List[RemotePrinter]:
        return [RemotePrinter._from(p) for p in _value(self._native.printers())]

    def printer(self, uuid_or_name: str) -> RemotePrinter:
        return RemotePrinter._from(_value(self._native.printer(uuid_or_name)))

    def supported_commands(self, printer: str, refresh: bool = False) -> List[CommandDefinition]:
        """The printer's (uuid's) supported commands, from the cache unless
        ``refresh`` or its time is up."""
        listed = _value(self._native.supported_commands(printer, refresh))
        return [CommandDefinition._from(c) for c in listed]

    def invalidate_commands(self, printer: Optional[str] = None) -> None:
        self._native.invalidate_commands(printer or "")

    def validate_command(self, printer: str, command: str,
                         kwargs: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """The check send_command runs, without sending: the kwargs with the
        defaults filled in, or CommandValidationError."""
        return _value(self._native.validate_command(printer, command, kwargs))

    def send_command(self, printer: str, command: str,
                     kwargs: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """Checks the command, then sends it; Connect's answer
        (``{"command": {"id": ..., "state": "CREATED", ...}}``)."""
        return _value(self._native.send_command(printer, command, kwargs))

    @property
    def requests_sent(self) -> int:
        return self._native.requests_sent()
