"""Small helpers of the SDK's ``util`` module."""
from time import time
from typing import Any, Dict, Optional

from . import const
from ._prusaconnect import fingerprint_from_serial

__all__ = ["get_timestamp", "make_fingerprint"]


def get_timestamp(timestamp: Optional[float] = None) -> float:
    """``timestamp`` when given, else now on the 0.1 s grid."""
    return timestamp or int(time() * 10) * const.TIMESTAMP_PRECISION


def make_fingerprint(identifier: str) -> str:
    """The SHA-256 hex digest of ``identifier`` (the fingerprint Prusa
    printers derive from their serial number)."""
    return fingerprint_from_serial(identifier)


def _struct_dict(value) -> Dict[str, Any]:
    """A struct the compiled module wraps (PrinterStats, TransferInfo...) as
    a dict of its fields, sorted by name."""
    return {name: getattr(value, name) for name, attr in sorted(vars(type(value)).items())
            if type(attr).__name__ == "getset_descriptor" and not name.startswith("_")
            and name not in ("this", "thisown")}
