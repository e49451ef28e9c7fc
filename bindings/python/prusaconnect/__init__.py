"""prusaconnect: Python bindings of libprusaconnect, a drop-in for the
reference SDK's ``prusa.connect.printer`` (prusa-connect-sdk-printer 0.8.1).

    from prusaconnect import Printer, const

Only the import changes: the classes, constants, handlers and exceptions are
the SDK's. The protocol runs in C++ on a network thread shared by every
printer of the process, which never holds the GIL. See docs/PYTHON.md.
"""
import atexit
import logging

from . import _prusaconnect, camera, command, conditions, const, download, files, models, util
from .command import Command, CommandFailed
from .conditions import API, HTTP, INTERNET, TOKEN, CondState
from .download import DownloadMgr, Transfer
from .const import MMU_SLOT_COUNTS
from .files import Filesystem
from .models import Sheet
from .printer import Printer, default_register_handler
from .util import get_timestamp

# The SDK API level these bindings provide (the SDK's own __version__).
__version__ = _prusaconnect.sdk_version()
# The version of libprusaconnect underneath.
__library_version__ = _prusaconnect.library_version()

# The names the SDK's package exposes that programs import from it
# (docs/PYTHON.md lists the internals that are not provided).
__all__ = ["Printer", "Command", "CommandFailed", "const", "set_log_level", "CondState",
           "INTERNET", "HTTP", "TOKEN", "API", "MMU_SLOT_COUNTS", "DownloadMgr", "Transfer",
           "Filesystem", "Sheet", "get_timestamp", "default_register_handler"]

_log = logging.getLogger("connect-printer")
_loggers = {}


def _forward_log(level, component, message):
    """The library's log records (delivered on the callback thread) go to
    the SDK's logger, "connect-printer", as child loggers per component."""
    logger = _loggers.get(component)
    if logger is None:
        logger = _loggers[component] = _log.getChild(component)
    logger.log(level, "%s", message)


def set_log_level(level: int) -> None:
    """The least severe library messages formatted and delivered (a
    ``logging`` level; the default is INFO, or DEBUG when the
    "connect-printer" logger is set to DEBUG at import)."""
    _prusaconnect.set_log_level(int(level))


_prusaconnect.install_log_sink(_forward_log)
set_log_level(logging.DEBUG if _log.isEnabledFor(logging.DEBUG) else logging.INFO)
# No library thread may enter Python once the interpreter starts finalizing.
atexit.register(_prusaconnect.shutdown)
