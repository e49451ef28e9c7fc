"""Data models: the pieces of the SDK's ``models`` module a host uses.

Events and telemetry are built and queued by the C++ library; only the
helpers and type hints an application touches are here.
"""
from typing import TypedDict

__all__ = ["CODE_TIMEOUT", "Sheet", "filter_null"]

CODE_TIMEOUT = 60 * 30  # a registration code lives 30 min


def filter_null(obj):
    """Returns ``obj`` (dict, list, tuple, set) without None values,
    recursively — what the library applies to event data and telemetry.

    >>> filter_null({'one': 1, 'none': None})
    {'one': 1}
    >>> filter_null([1, None])
    [1]
    """
    if isinstance(obj, dict):
        return {key: filter_null(val) for key, val in obj.items() if val is not None}
    if isinstance(obj, (list, tuple, set)):
        return obj.__class__(filter_null(val) for val in obj if val is not None)
    return obj


class Sheet(TypedDict):
    """One entry of ``Printer.sheet_settings``."""
    name: str
    z_offset: float
