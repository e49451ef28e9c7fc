"""OctoPrint's printer state as Prusa Connect wants to hear it.

The same rules as the daemon's examples/octoprint_adapter/state_map.cc
(ClassifyOcto, MapState): OctoPrint's state flags first (they are exact),
the state text when there are none. tests/octoprint/tables/states.json is
run by both, so the two never disagree.
"""
from typing import Iterable, Optional

UNREACHABLE = "unreachable"
OFFLINE = "offline"
ERROR = "error"
CONNECTING = "connecting"
OPERATIONAL = "operational"
BUSY = "busy"
PRINTING = "printing"
PAUSING = "pausing"
PAUSED = "paused"
CANCELLING = "cancelling"

_CONNECT = {
    UNREACHABLE: "ERROR", OFFLINE: "ERROR", ERROR: "ERROR",
    CONNECTING: "BUSY", BUSY: "BUSY", CANCELLING: "BUSY",
    PRINTING: "PRINTING", PAUSING: "PAUSED", PAUSED: "PAUSED",
    OPERATIONAL: "IDLE",
}

_REASONS = {
    UNREACHABLE: "OctoPrint cannot be reached",
    OFFLINE: "OctoPrint is not connected to the printer",
    ERROR: "the printer is in an error state",
    CONNECTING: "OctoPrint is still connecting to the printer",
    BUSY: "the printer is busy",
    PRINTING: "the printer is printing",
    PAUSING: "the printer is pausing",
    PAUSED: "the printer is paused",
    CANCELLING: "the print is being cancelled",
    OPERATIONAL: "the printer is idle",
}


def classify(flags: Optional[Iterable[str]], text: str, reachable: bool = True) -> str:
    """The OctoPrint state: one of the constants above. `flags` are the names
    of OctoPrint's true state flags (None or empty when unknown)."""
    if not reachable:
        return UNREACHABLE
    flags = set(flags or ())
    text = text or ""
    if flags:
        if "error" in flags:
            return ERROR
        if "cancelling" in flags:
            return CANCELLING
        if "pausing" in flags:
            return PAUSING
        if "paused" in flags:
            return PAUSED
        if flags & {"printing", "finishing", "resuming"}:
            return PRINTING
        if "operational" in flags:
            return OPERATIONAL if "ready" in flags else BUSY
        if "closedOrError" in flags:
            return ERROR if "rror" in text else OFFLINE
    if "rror" in text:
        return ERROR
    if text == "Cancelling":
        return CANCELLING
    if text == "Pausing":
        return PAUSING
    if text == "Paused":
        return PAUSED
    if text.startswith(("Printing", "Starting")) or text in ("Resuming", "Finishing"):
        return PRINTING
    if text == "Operational":
        return OPERATIONAL
    if text.startswith(("Opening", "Detecting")) or text == "Connecting":
        return CONNECTING
    if "SD" in text:
        return BUSY
    return OFFLINE  # "Offline", "Closed", "" and anything unknown


def connect_state(octo: str) -> str:
    """The Connect state (a const.State name) of an OctoPrint state, before
    the plugin's overlay (READY, FINISHED / STOPPED after a job)."""
    return _CONNECT[octo]


def has_job(octo: str) -> bool:
    return octo in (PRINTING, PAUSING, PAUSED, CANCELLING)


def reason(octo: str) -> str:
    """Why a command cannot run now, for people."""
    return _REASONS[octo]


def true_flags(flags) -> list:
    """The names of the true flags of OctoPrint's state.flags dict."""
    return [name for name, value in (flags or {}).items() if value is True]
