"""Conditions: what is known about the health of the link to Connect.

The same API as the SDK's ``prusa.connect.printer.conditions``:

* :class:`CondState`, :class:`Condition` and :class:`ConditionTracker` for
  an application's own condition trees (pure Python, as in the SDK);
* the library's chain INTERNET → HTTP → TOKEN → API is **per printer**
  (COMPATIBILITY.md Q41): ``printer.conditions.INTERNET`` … ``.API`` and
  ``printer.conditions.tracker``. Their handlers run on the bindings'
  callback thread, never on the library's network thread.
* The module-level ``INTERNET``, ``HTTP``, ``TOKEN``, ``API`` and
  ``COND_TRACKER`` that SDK code imports stand for the conditions of the
  first :class:`~prusaconnect.Printer` the process creates (UNKNOWN until
  then), which is what they mean in a one-printer application.
"""
from __future__ import annotations

import math
import threading
import weakref
from enum import Enum
from typing import Callable, Dict, List, Optional, Set

cond_lock = threading.RLock()

__all__ = [
    "CondState", "Condition", "ConditionTracker", "INTERNET", "HTTP", "TOKEN",
    "API", "COND_TRACKER"
]


class CondState(Enum):
    """The state of a condition."""
    UNKNOWN = None
    OK = True
    NOK = False


Handler = Callable[["Condition", CondState], None]

_STATES = (CondState.UNKNOWN, CondState.OK, CondState.NOK)
# The printer's chain in the library (conditions.h Conditions), by node index.
_NODES = ("INTERNET", "HTTP", "TOKEN", "API")


def _node(native, index):
    """The library's Condition of a printer's chain."""
    return getattr(native.conditions(), _NODES[index])


def _name(native, index) -> str:
    """The library's name of a node ("Internet", "HTTP", "Token", "API")."""
    return _node(native, index).name()


def _index(native, condition) -> Optional[int]:
    if condition is None:
        return None
    name = condition.name()
    return next(i for i in range(len(_NODES)) if _name(native, i) == name)


def _info(native, index) -> dict:
    condition = _node(native, index)
    return {"name": condition.name(), "long_msg": condition.long_msg(),
            "short_msg": condition.short_msg(), "priority": condition.priority(),
            "parent": _index(native, condition.parent()),
            "children": [_index(native, c) for c in condition.children()]}


# pylint: disable=too-many-arguments
class Condition:
    """A node of a condition tree (pure Python, as the SDK's)."""

    def __init__(self,
                 name: str,
                 long_msg: str,
                 parent: Optional[Condition] = None,
                 short_msg: Optional[str] = None,
                 priority: int = 0):
        self.name: str = name
        self.long_msg: str = long_msg
        self.short_msg: str = short_msg or name
        self._priority = priority
        self._broke_cb: Set[Handler] = set()
        self._fixed_cb: Set[Handler] = set()
        self._parent: Optional[Condition] = None
        self._children: Set[Condition] = set()
        self._state = CondState.UNKNOWN
        if parent is not None:
            self.set_parent(parent)

    def set_parent(self, parent: Condition):
        """Joins this tree under ``parent`` (both must still be UNKNOWN)."""
        with cond_lock:
            if parent == self.parent:
                return
            if self.parent is not None:
                raise ValueError("Can't replace a parent with another")
            if not parent.state == self.state == CondState.UNKNOWN:
                raise ValueError("Re-planting of initialized trees is "
                                 "not supported.")
            self._parent = parent
            parent.add_broke_handler(self._parent_broke)
            parent._children.add(self)  # pylint: disable=protected-access
            self.add_fixed_handler(parent._child_fixed)  # pylint: disable=protected-access

    def _parent_broke(self, *_):
        self.state = CondState.NOK

    def _child_fixed(self, *_):
        if all(child for child in self._children):
            self.state = CondState.OK

    def add_broke_handler(self, handler: Handler):
        """Calls ``handler(condition, old_state)`` when this becomes NOK."""
        with cond_lock:
            if handler in self._broke_cb:
                raise ValueError("Can't add an already added handler")
            self._broke_cb.add(handler)

    def add_fixed_handler(self, handler: Handler):
        """Calls ``handler(condition, old_state)`` when this becomes OK."""
        with cond_lock:
            if handler in self._fixed_cb:
                raise ValueError("Can't add an already added handler")
            self._fixed_cb.add(handler)

    def remove_broke_handler(self, handler: Handler):
        with cond_lock:
            self._broke_cb.remove(handler)

    def remove_fixed_handler(self, handler: Handler):
        with cond_lock:
            self._fixed_cb.remove(handler)

    @property
    def parent(self):
        return self._parent

    @property
    def children(self):
        return self._children

    @property
    def state(self) -> CondState:
        return self._state

    @state.setter
    def state(self, state: CondState):
        if state == CondState.UNKNOWN:
            raise ValueError("Can't reset a condition to unknown")
        with cond_lock:
            if state is self._state:
                return
            old_state = self._state
            self._state = state
            for handler in list(self._fixed_cb if self else self._broke_cb):
                handler(self, old_state)

    @property
    def priority(self) -> int:
        return self._priority

    def successors_ok(self) -> bool:
        """True if this node and all its descendants are OK."""
        return all(successor for successor in self)

    def __bool__(self):
        return self._state is CondState.OK

    def __str__(self):
        return f"{self.name}: {self._state.name}"

    def __iter__(self):
        for child in self._children:
            yield from child
        yield self


class ConditionTracker:
    """Tracks NOK conditions; :meth:`get_worst` is the one to show."""

    def __init__(self) -> None:
        self._nok_conditions: Set = set()
        self._tracked_conditions: Set = set()
        self._cached_worst = None

    def add_tracked_condition_tree(self, root_condition):
        with cond_lock:
            for condition in root_condition:
                self.add_tracked_condition(condition)

    def add_tracked_condition(self, condition):
        with cond_lock:
            if condition not in self._tracked_conditions:
                self._tracked_conditions.add(condition)
                condition.add_broke_handler(self._tracked_broke)
                condition.add_fixed_handler(self._tracked_fixed)
                if condition.state == CondState.NOK:
                    self._tracked_broke(condition, CondState.OK)

    def remove_tracked_condition_tree(self, condition_root):
        with cond_lock:
            for condition in condition_root:
                self.remove_tracked_condition(condition)

    def remove_tracked_condition(self, condition):
        with cond_lock:
            if condition in self._tracked_conditions:
                self._tracked_conditions.remove(condition)
                condition.remove_broke_handler(self._tracked_broke)
                condition.remove_fixed_handler(self._tracked_fixed)
            if condition in self._nok_conditions:
                self._tracked_fixed(condition)

    def _tracked_broke(self, condition, _=None):
        self._nok_conditions.add(condition)
        self._cached_worst = None

    def _tracked_fixed(self, condition, _=None):
        if condition in self._nok_conditions:
            self._nok_conditions.remove(condition)
            self._cached_worst = None

    @property
    def nok_conditions(self):
        return self._nok_conditions

    def get_worst(self):
        """The NOK condition with the highest priority, or None."""
        with cond_lock:
            if self._cached_worst is not None:
                return self._cached_worst
            worst, worst_priority = None, -math.inf
            for condition in self._nok_conditions:
                if condition.priority >= worst_priority:
                    worst, worst_priority = condition, condition.priority
            self._cached_worst = worst
            return worst

    def is_tracked(self, condition):
        return condition in self._tracked_conditions


# ---------------------------------------------------------------- per printer


class PrinterCondition:
    """One node of a printer's INTERNET → HTTP → TOKEN → API chain, kept by
    the C++ library. The same reading API and handlers as
    :class:`Condition`; handlers run on the bindings' callback thread."""

    def __init__(self, owner: "PrinterConditions", node: int, info: dict):
        self._owner = owner
        self._node = node
        self.name: str = info["name"]
        self.long_msg: str = info["long_msg"]
        self.short_msg: str = info["short_msg"]
        self._priority: int = info["priority"]
        self._parent_index = info["parent"]
        self._children_index = info["children"]
        self._broke_cb: Set[Handler] = set()
        self._fixed_cb: Set[Handler] = set()
        # An application's tree joined to the chain, as the SDK allows
        # (PrusaLink: INTERNET.set_parent(LAN), Condition(parent=API)).
        self._app_parent = None
        self._children: Set = set()

    def _native(self):
        return self._owner._printer()._native  # pylint: disable=protected-access

    @property
    def state(self) -> CondState:
        return CondState[_node(self._native(), self._node).state()]

    @state.setter
    def state(self, state: CondState):
        if state == CondState.UNKNOWN or state not in _STATES:
            raise ValueError("Can't reset a condition to unknown")
        _node(self._native(), self._node).set_state(state.name)

    @property
    def reason(self) -> str:
        """What broke this node, for people ("connection refused (...)",
        "Connect answered HTTP 503"); "" when it is not NOK or broke only
        because its parent did (libprusaconnect's; the SDK has no such
        attribute)."""
        return _node(self._native(), self._node).reason()

    @property
    def priority(self) -> int:
        return self._priority

    def _node_at(self, index):
        return self._owner.nodes[index]

    @property
    def parent(self):
        if self._parent_index is None:
            return self._app_parent
        return self._node_at(self._parent_index)

    @property
    def children(self):
        return {self._node_at(i) for i in self._children_index} | self._children

    def set_parent(self, parent):
        """Only the chain's root (INTERNET) takes a parent: an application's
        condition (e.g. PrusaLink's LAN), as the SDK allows. A NOK parent
        breaks the chain; the chain OK counts for the parent's children."""
        if parent == self.parent:
            return
        if self._parent_index is not None or self._app_parent is not None:
            raise ValueError("Can't replace a parent with another")
        with cond_lock:
            self._app_parent = parent
            parent.add_broke_handler(self._parent_broke)
            parent._children.add(self)  # pylint: disable=protected-access
        self.add_fixed_handler(parent._child_fixed)  # pylint: disable=protected-access

    def _parent_broke(self, *_):
        try:
            self.state = CondState.NOK
        except RuntimeError:
            pass  # a module condition before any Printer: nothing to break

    def _child_fixed(self, *_):
        if all(child for child in self.children):
            self.state = CondState.OK

    def _watch(self):
        native = self._native()
        native.watch_condition(_name(native, self._node))

    def add_broke_handler(self, handler: Handler):
        with cond_lock:
            if handler in self._broke_cb:
                raise ValueError("Can't add an already added handler")
            self._broke_cb.add(handler)
        self._watch()

    def add_fixed_handler(self, handler: Handler):
        with cond_lock:
            if handler in self._fixed_cb:
                raise ValueError("Can't add an already added handler")
            self._fixed_cb.add(handler)
        self._watch()

    def remove_broke_handler(self, handler: Handler):
        with cond_lock:
            self._broke_cb.remove(handler)

    def remove_fixed_handler(self, handler: Handler):
        with cond_lock:
            self._fixed_cb.remove(handler)

    def _changed(self, ok: bool, old_state: CondState):
        with cond_lock:
            handlers = list(self._fixed_cb if ok else self._broke_cb)
        for handler in handlers:
            handler(self, old_state)

    def successors_ok(self) -> bool:
        return all(successor for successor in self)

    def __bool__(self):
        return self.state is CondState.OK

    def __str__(self):
        return f"{self.name}: {self.state.name}"

    def __repr__(self):
        return f"<PrinterCondition {self}>"

    def __iter__(self):
        for child in self.children:
            yield from child
        yield self


class PrinterTracker:
    """The tracker of a printer's chain (the SDK's COND_TRACKER)."""

    def __init__(self, owner: "PrinterConditions"):
        self._owner = owner

    @property
    def nok_conditions(self):
        return {c for c in self._owner.nodes if c.state is CondState.NOK}

    def get_worst(self):
        native = self._owner._printer()._native  # pylint: disable=protected-access
        index = _index(native, native.conditions().tracker.get_worst())
        return self._owner.nodes[index] if index is not None else None

    def is_tracked(self, condition):
        return condition in self._owner.nodes


class PrinterConditions:
    """``printer.conditions``: INTERNET, HTTP, TOKEN, API and ``tracker``."""

    def __init__(self, printer):
        self._printer = weakref.ref(printer)
        native = printer._native  # pylint: disable=protected-access
        self.nodes: List[PrinterCondition] = [
            PrinterCondition(self, i, _info(native, i)) for i in range(4)
        ]
        self.INTERNET, self.HTTP, self.TOKEN, self.API = self.nodes  # pylint: disable=invalid-name
        self.tracker = PrinterTracker(self)

    def _changed(self, name: str, ok: bool, old: str):
        """Called by the printer from the callback thread."""
        node = next(i for i, n in enumerate(self.nodes) if n.name == name)
        old_state = CondState[old]
        self.nodes[node]._changed(ok, old_state)  # pylint: disable=protected-access
        if _DEFAULT.get("printer") is self._printer:
            _MODULE_NODES[node]._changed(ok, old_state)  # pylint: disable=protected-access


# ---------------------------------------------------------------- module level

_DEFAULT: Dict[str, Optional[weakref.ref]] = {"printer": None}


def _bind_default(printer) -> None:
    """Makes the module-level conditions those of ``printer`` if none yet."""
    with cond_lock:
        current = _DEFAULT["printer"]
        if current is not None and current() is not None:
            return
        _DEFAULT["printer"] = printer.conditions._printer  # pylint: disable=protected-access
        watched = [bool(n._broke_cb or n._fixed_cb) for n in _MODULE_NODES]  # pylint: disable=protected-access
    for node, watch in enumerate(watched):
        if watch:
            printer._native.watch_condition(_name(printer._native, node))  # pylint: disable=protected-access


class _ModuleCondition(PrinterCondition):
    """A module-level condition: the first printer's, UNKNOWN before."""

    def __init__(self, node: int, name: str, long_msg: str, priority: int,
                 parent: Optional[int], children: List[int]):
        super().__init__(None, node, {
            "name": name,
            "long_msg": long_msg,
            "short_msg": name,
            "priority": priority,
            "parent": parent,
            "children": children
        })

    def _printer_native(self):
        ref = _DEFAULT["printer"]
        printer = ref() if ref is not None else None
        return printer._native if printer is not None else None  # pylint: disable=protected-access

    def _native(self):
        native = self._printer_native()
        if native is None:
            raise RuntimeError("no Printer exists yet")
        return native

    @property
    def state(self) -> CondState:
        native = self._printer_native()
        if native is None:
            return CondState.UNKNOWN
        return CondState[_node(native, self._node).state()]

    @state.setter
    def state(self, state: CondState):
        PrinterCondition.state.fset(self, state)

    @property
    def reason(self) -> str:
        native = self._printer_native()
        return _node(native, self._node).reason() if native is not None else ""

    def _node_at(self, index):
        return _MODULE_NODES[index]

    def _watch(self):
        native = self._printer_native()
        if native is not None:
            native.watch_condition(_name(native, self._node))


class _ModuleTracker(ConditionTracker):
    """The SDK's COND_TRACKER: tracks the first printer's chain and whatever
    the application adds (PrusaLink adds its own tree). NOK is read live."""

    def __init__(self, nodes):
        super().__init__()
        self._tracked_conditions.update(nodes)

    def add_tracked_condition(self, condition):
        with cond_lock:
            self._tracked_conditions.add(condition)
            self._cached_worst = None

    def remove_tracked_condition(self, condition):
        with cond_lock:
            self._tracked_conditions.discard(condition)
            self._cached_worst = None

    @property
    def nok_conditions(self):
        return {c for c in self._tracked_conditions if c.state is CondState.NOK}

    def get_worst(self):
        worst, worst_priority = None, -math.inf
        for condition in self.nok_conditions:
            if condition.priority > worst_priority:
                worst, worst_priority = condition, condition.priority
        return worst


INTERNET = _ModuleCondition(
    0, "Internet", "DNS does not work, or there are other problems in "
    "communication to other hosts in the Internet.", 130, None, [1])
HTTP = _ModuleCondition(
    1, "HTTP", "HTTP communication to Connect fails, we're getting 5XX "
    "statuses", 120, 0, [2])
TOKEN = _ModuleCondition(
    2, "Token", "Printer has no valid token, it needs to be registered with "
    "Connect.", 110, 1, [3])
API = _ModuleCondition(
    3, "API", "Encountered 4XX problems while communicating to Connect", 100,
    2, [])
_MODULE_NODES = [INTERNET, HTTP, TOKEN, API]
COND_TRACKER = _ModuleTracker(_MODULE_NODES)
