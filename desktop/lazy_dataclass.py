"""`dataclass`, the standard library's, applied to a class on its first use instead of when the class is defined.

Why: on Python 3.11, `dataclasses.dataclass` compiles the source of four to six methods per class when its module is
imported, about 0.8 ms per class. The window's modules define dozens of them (settings, the controller's views and
events, the composer's) and most are not used before the window's first paint: processing each at its first use
moved ~25-35 ms of CPU out of the start-up (measured with the history's rows lazy too, which they no longer are: see
Threads below).

What stays the same: the class is processed by `dataclasses.dataclass` itself, with the same options, so its methods,
`dataclasses.fields`/`replace`/`asdict`, equality, hashing and frozenness are exactly the standard ones. The class
gets placeholders for what `dataclass` would add (`__init__`, `__repr__`, `__eq__`, ...; `__dataclass_fields__` and
`__match_args__` as descriptors); the first of them used (creating an instance, `dataclasses.fields(cls)`, a subclass
being processed) removes them all, runs `dataclass` on the class and carries on with the real attribute. Type
checkers see `dataclasses.dataclass`.

What differs: a mistake in a class's fields (a field without a default after one with) is reported at its first
use, not at import; `tests/app/test_lazy_dataclass.py` processes every class made here, so the suite still reports it.
The app processes the rest on the GUI thread right after its first paint, one class per turn of the event loop
(`process_next`). `slots=True` makes a new class, which cannot be done later: such classes are processed at once.

Threads: only for classes first used on the GUI thread. Processing removes the placeholders before `dataclass` adds
the real methods (it adds none a class already has); another thread creating an instance in between would get
`object.__init__`. So the classes of modules that worker threads run (the history, the keyring and sign-in calls,
the client, the simulator, the log, the messages bridge) use `dataclasses.dataclass`; a test holds that list, and
processing is never started from a worker thread.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import TYPE_CHECKING, Any

__all__ = ["dataclass", "deferred_classes", "pending_classes", "process_all", "process_next", "process_now"]

_PROCESSED = threading.RLock()  # one class processed at a time (a subclass processes its bases first, hence re-entrant)
# Every class decorated here and not processed yet, with its options.
_PENDING: dict[type, dict[str, Any]] = {}
_ALL: list[type] = []
_METHODS = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__")
_ORDER = ("__lt__", "__le__", "__gt__", "__ge__")
_DESCRIPTORS = ("__dataclass_fields__", "__dataclass_params__", "__match_args__")


def process_now(cls: type) -> type:
    """Run `dataclasses.dataclass` on `cls` if it has not run yet; returns `cls`."""
    with _PROCESSED:
        options = _PENDING.pop(cls, None)
        if options is None:
            return cls
        for name in options.pop("_placeholders"):
            delattr(cls, name)
        dataclasses.dataclass(cls, **options)
    return cls


def process_next() -> bool:
    """Process one class not processed yet; False when none was left. The app calls it on the GUI thread after its
    first paint, one class per turn of the event loop, so a first message does not pay for its events' classes."""
    with _PROCESSED:
        pending = next(iter(_PENDING), None)
        if pending is None:
            return False
        process_now(pending)
    return True


def process_all() -> int:
    """Process every class not processed yet; returns how many were processed."""
    done = 0
    while process_next():
        done += 1
    return done


def pending_classes() -> list[type]:
    """The classes decorated here and not processed yet."""
    with _PROCESSED:
        return list(_PENDING)


def deferred_classes() -> list[type]:
    """Every class decorated with this module's `dataclass` so far, processed or not (for tests)."""
    return list(_ALL)


class _Placeholder:
    """Stands for an attribute `dataclass` will add: processes the class, then answers with the real attribute."""

    def __init__(self, owner: type, name: str) -> None:
        self._owner = owner
        self._name = name

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        process_now(self._owner)
        real = self._owner.__dict__.get(self._name, _MISSING)
        if real is _MISSING:  # dataclass added none: what a base class has, as if there had been no placeholder
            below = super(self._owner, instance) if instance is not None else super(self._owner, owner)
            return getattr(below, self._name)
        if real is None:  # __hash__ = None: unhashable
            if instance is not None and self._name == "__hash__":
                raise TypeError(f"unhashable type: '{type(instance).__name__}'")
            return None
        return real.__get__(instance, owner) if hasattr(real, "__get__") else real


_MISSING = object()


def _defer(cls: type, options: dict[str, Any]) -> type:
    if options.get("slots"):
        return dataclasses.dataclass(cls, **options)
    names = _METHODS + (_ORDER if options.get("order") else ()) + _DESCRIPTORS
    placeholders = tuple(name for name in names if name not in cls.__dict__)
    with _PROCESSED:
        for name in placeholders:
            setattr(cls, name, _Placeholder(cls, name))
        _PENDING[cls] = {**options, "_placeholders": placeholders}
        _ALL.append(cls)
    return cls


if TYPE_CHECKING:
    from dataclasses import dataclass
else:

    def dataclass(cls: type | None = None, /, **options: Any) -> Any:
        """`dataclasses.dataclass` (same options), applied at the class's first use."""
        if cls is None:
            return lambda c: _defer(c, options)
        return _defer(cls, options)
