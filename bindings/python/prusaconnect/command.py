"""The command object: ``printer.command`` (the SDK's ``command.Command``).

Connect's commands are accepted, answered (ACCEPTED, REJECTED, duplicates...)
and tracked by the C++ library on its network thread; this object is the
SDK-shaped view of them:

* ``printer.command()`` runs the pending command's handler in the calling
  thread (the GIL is released while the library works and re-acquired for
  the handler);
* a handler receives this object and reads ``command_id``,
  ``command_name``, ``args``, ``kwargs`` and ``force``; it returns a dict for
  :meth:`finish` (``source`` at least; optionally ``event``, ``reason``,
  ``state``, ``job_id``, ``transfer_id``, ``dialog_id`` and any data key);
* :meth:`finish`, :meth:`failed` and :meth:`reject` end a command from
  outside its handler (asynchronous completion);
* ``handlers`` maps :class:`const.Command` to handlers; assigning to it
  (or ``printer.set_handler``) registers the handler with the library.
"""
import logging
import operator
import threading
from typing import Any, Dict, Optional

from . import const
from ._prusaconnect import CommandResult

log = logging.getLogger("connect-printer")

__all__ = ["Command", "CommandFailed"]

# Keys of a result/event that are top-level fields of the event, not data.
_TOP_LEVEL = ("job_id", "transfer_id", "reason", "state", "dialog_id")


class CommandFailed(RuntimeError):
    """Raised by a handler to signal that its command has failed."""


def enum_value(member, enum_cls, what):
    """The wire text of ``member`` (a member of ``enum_cls`` or its value)."""
    if member.__class__ is enum_cls:
        return member.value
    if isinstance(member, str) and member in enum_cls._value2member_map_:
        return member
    raise TypeError(f"{what} must be a const.{enum_cls.__name__}, not {member!r}")


def int_id(value, what):
    """An id as the SDK sends it: falsy means absent (0)."""
    if not value:
        return 0
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(
            f"{what} must be an int, not {type(value).__name__}") from None


def event_parts(event, source, kwargs):
    """Splits the SDK's event keywords as ``models.Event`` does.

    Returns (event, source, reason, state, job_id, transfer_id, dialog_id,
    data) with wire texts, "" / 0 for absent values. ``timestamp`` is
    accepted and dropped (command answers are stamped when queued).
    """
    kwargs.pop("timestamp", None)
    reason = kwargs.pop("reason", None)
    state = kwargs.pop("state", None)
    return (enum_value(event, const.Event, "event"),
            enum_value(source, const.Source, "source"),
            str(reason) if reason else "",
            enum_value(state, const.State, "state") if state else "",
            int_id(kwargs.pop("job_id", None), "job_id"),
            int_id(kwargs.pop("transfer_id", None), "transfer_id"),
            int_id(kwargs.pop("dialog_id", None), "dialog_id"),
            kwargs)


def command_result(parts):
    """The library's CommandResult of ``event_parts()``."""
    event, source, reason, state, job_id, transfer_id, dialog_id, data = parts
    result = CommandResult()
    result.event = event
    result.source = source
    if reason:
        result.reason = reason
    if state:
        result.state = state
    if job_id:
        result.job_id = job_id
    if transfer_id:
        result.transfer_id = transfer_id
    if dialog_id:
        result.dialog_id = dialog_id
    result.data = data if isinstance(data, dict) else {}
    return result


class _Handlers(dict):
    """``Command.handlers``: registering a handler tells the library."""

    def __init__(self, command):
        super().__init__()
        self._command = command

    def _route(self, cmd):
        printer = self._command._printer
        handler = dict.get(self, cmd)
        native_builtin = handler is not None and printer._is_native_builtin(
            cmd, handler)
        printer._native.route_handler(cmd.value, handler is not None
                                      and not native_builtin)

    @staticmethod
    def _check(cmd):
        if cmd.__class__ is not const.Command:
            raise TypeError(f"handlers are keyed by const.Command, not {cmd!r}")

    def __setitem__(self, cmd, handler):
        self._check(cmd)
        if not callable(handler):
            raise TypeError(f"a handler must be callable, not {handler!r}")
        dict.__setitem__(self, cmd, handler)
        self._route(cmd)

    def __delitem__(self, cmd):
        dict.__delitem__(self, cmd)
        self._route(cmd)

    def pop(self, cmd, *default):
        had = cmd in self
        value = dict.pop(self, cmd, *default)
        if had:
            self._route(cmd)
        return value

    def popitem(self):
        cmd, value = dict.popitem(self)
        self._route(cmd)
        return cmd, value

    def clear(self):
        keys = list(self)
        dict.clear(self)
        for cmd in keys:
            self._route(cmd)

    def setdefault(self, cmd, default=None):
        if cmd not in self:
            self[cmd] = default
        return dict.__getitem__(self, cmd)

    def update(self, *args, **kwargs):
        for cmd, handler in dict(*args, **kwargs).items():
            self[cmd] = handler

    def __ior__(self, other):
        self.update(other)
        return self


class Command:
    """The current (or last) command of a printer and its handlers."""

    handlers: Dict[const.Command, Any]

    def __init__(self, printer):
        self._printer = printer
        self.handlers = _Handlers(self)
        # Called (on the bindings' callback thread) when a priority command
        # (RESET_PRINTER) preempts the running one.
        self.stop_cb = lambda: None
        self._last = (-1, None, [], {}, False)
        self._local = threading.local()

    # ---- what the library knows ----
    def _current(self):
        cur = self._printer._native.current_command()  # a CommandRequest or None
        if cur is not None and cur.command_id != self._last[0]:
            self._last = (cur.command_id, cur.command_name, cur.args, cur.kwargs, cur.force)
        return cur

    @property
    def state(self) -> Optional[const.Event]:
        """``Event.ACCEPTED`` while a command runs, else None."""
        return const.Event.ACCEPTED if self._current() is not None else None

    @property
    def last_state(self) -> const.Event:
        """``Event.ACCEPTED`` while a command runs, else how the last one
        ended (FINISHED, REJECTED, FAILED...): what a re-sent id of it is
        answered with."""
        return const.Event[self._printer._native.last_command_state()]

    @property
    def command_id(self) -> int:
        """The id of the current or last command seen (-1: none yet)."""
        self._current()
        return self._last[0]

    @property
    def command_name(self) -> Optional[str]:
        self._current()
        return self._last[1]

    @property
    def args(self):
        self._current()
        return self._last[2]

    @property
    def kwargs(self):
        self._current()
        return self._last[3]

    @property
    def force(self) -> bool:
        self._current()
        return self._last[4]

    @property
    def event_cb(self):
        return self._printer.event_cb

    def _started(self, command_id, command_name, args, kwargs, force):
        self._last = (command_id, command_name, args, kwargs, force)

    # ---- ending a command ----
    def _end(self, parts, command_id):
        try:
            self._printer._native.finish_command(
                command_result(parts),
                None if command_id is None else int_id(command_id, "command_id"))
        except RuntimeError:
            log.warning("%s %s: no such command is running", parts[0],
                        command_id if command_id is not None else "")

    def finish(self,
               source: const.Source,
               event: Optional[const.Event] = None,
               command_id: Optional[int] = None,
               **kwargs):
        """Finishes the command with ``event`` (default FINISHED)."""
        parts = event_parts(event or const.Event.FINISHED, source, kwargs)
        local = self._local
        if getattr(local, "collecting", False):
            local.result = parts
            return None
        return self._end(parts, command_id)

    def failed(self,
               source: const.Source,
               reason,
               command_id: Optional[int] = None,
               **kwargs):
        """Ends the command with FAILED."""
        kwargs["reason"] = reason
        self._end(event_parts(const.Event.FAILED, source, kwargs), command_id)

    def reject(self, source: const.Source, reason: str, **kwargs):
        """Ends the current command with REJECTED."""
        kwargs["reason"] = reason
        self._end(event_parts(const.Event.REJECTED, source, kwargs), None)

    def _collect(self, command_id, result):
        """What ``finish(command_id=..., **result)`` would send, as the
        library's handler outcome (a CommandResult) (the SDK's TypeErrors included: a result
        that is not a mapping, lacks ``source`` or holds ``command_id``)."""
        local = self._local
        local.collecting = True
        local.result = None
        try:
            self.finish(command_id=command_id, **result)
            parts = local.result
        finally:
            local.collecting = False
            local.result = None
        try:
            return command_result(parts)
        except (TypeError, ValueError) as err:  # data JSON cannot carry: FAILED, its repr
            return repr(err)

    def __call__(self):
        """Runs the handler of the accepted command, if any, in this thread."""
        self._printer._native.command()
