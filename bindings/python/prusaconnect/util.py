"""Small helpers of the SDK's ``util`` module."""
from time import time
from typing import Optional

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
