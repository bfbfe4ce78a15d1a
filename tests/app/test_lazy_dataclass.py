"""desktop.lazy_dataclass: the standard `dataclass`, run on a class at its first use instead of at its definition."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import importlib
import pkgutil
import threading
from dataclasses import field
from typing import Any

import pytest

import desktop
from desktop.lazy_dataclass import dataclass, deferred_classes, pending_classes, process_all, process_now


@dataclass(frozen=True)
class Point:
    """A frozen class, as most of the app's are."""

    x: int
    tags: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list, compare=False)


@dataclass(frozen=True)
class Labelled(Point):
    """A subclass processed before its base was used."""

    label: str = ""


@dataclass
class Counter:
    """A mutable one: unhashable, assignable."""

    count: int = 0


@dataclass(frozen=True)
class Shown:
    """Its own __repr__ stays."""

    value: int

    def __repr__(self) -> str:
        return f"<{self.value}>"


def _processed(cls: type) -> bool:
    return "__dataclass_fields__" in vars(cls) and isinstance(vars(cls)["__dataclass_fields__"], dict)


def test_a_class_is_not_processed_until_it_is_used() -> None:
    @dataclass(frozen=True)
    class Later:
        """Defined, never used."""

        value: int

    assert not _processed(Later)
    assert Later(3).value == 3
    assert _processed(Later)


def test_instances_behave_as_the_standard_dataclass_s() -> None:
    a = Point(1, ("t",))
    assert a == Point(1, ("t",), ["ignored by =="]) and a != Point(2)
    assert hash(a) == hash(Point(1, ("t",)))
    assert repr(a) == "Point(x=1, tags=('t',), notes=[])"
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.x = 2  # type: ignore[misc]
    assert dataclasses.replace(a, x=5) == Point(5, ("t",))
    assert dataclasses.asdict(a) == {"x": 1, "tags": ("t",), "notes": []}
    assert copy.copy(a) == a and copy.deepcopy(a) == a
    assert Point.__match_args__ == ("x", "tags", "notes")
    assert repr(Shown(4)) == "<4>"


def test_a_subclass_gets_its_base_s_fields() -> None:
    assert [f.name for f in dataclasses.fields(Labelled)] == ["x", "tags", "notes", "label"]
    assert Labelled(1, label="a") != Point(1)
    match Labelled(7, label="b"):
        case Labelled(x, label=label):
            assert (x, label) == (7, "b")
        case _:
            pytest.fail("no match")


def test_a_mutable_class_is_unhashable_and_assignable() -> None:
    counter = Counter()
    counter.count += 1
    assert counter == Counter(1)
    with pytest.raises(TypeError, match="unhashable"):
        hash(counter)


def test_fields_of_a_class_not_used_yet() -> None:
    @dataclass(frozen=True)
    class Unused:
        """Asked for its fields before any instance."""

        a: int
        b: str = ""

    assert dataclasses.is_dataclass(Unused)
    assert [f.name for f in dataclasses.fields(Unused)] == ["a", "b"]


def test_threads_processing_a_class_at_once_process_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    @dataclass(frozen=True)
    class Shared:
        """Processed by several threads at once."""

        value: int

    real = dataclasses.dataclass
    calls: list[type] = []

    def counting(cls: type, **options: Any) -> Any:
        calls.append(cls)
        return real(cls, **options)

    monkeypatch.setattr(dataclasses, "dataclass", counting)
    start = threading.Barrier(4)

    def process() -> None:
        start.wait()
        process_now(Shared)

    threads = [threading.Thread(target=process) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [Shared]
    assert Shared(1) == Shared(1)


def test_every_class_of_the_app_made_this_way_is_valid() -> None:
    """A mistake in a class's fields shows at its first use: use every one here so the suite reports it."""
    for module in pkgutil.walk_packages(desktop.__path__, "desktop."):
        if module.name != "desktop.__main__":
            importlib.import_module(module.name)
    classes = [c for c in deferred_classes() if c.__module__.startswith("desktop.")]
    assert len(classes) > 40
    for cls in classes:
        assert dataclasses.fields(cls) is not None, cls


def test_process_all_processes_what_is_left() -> None:
    @dataclass(frozen=True)
    class Left:
        """Not used by anything."""

        value: int

    assert Left in pending_classes()
    assert process_all() >= 1
    assert _processed(Left) and not pending_classes()
    assert process_all() == 0


def test_the_app_processes_what_is_left_after_the_first_paint_one_class_per_loop_turn() -> None:
    from desktop.app import process_dataclasses

    process_all()

    @dataclass(frozen=True)
    class First:
        """As a turn's events are at the first paint."""

        value: int

    @dataclass(frozen=True)
    class Second:
        """As a turn's errors are."""

        value: int

    async def run() -> list[bool]:
        task = asyncio.create_task(process_dataclasses())
        await asyncio.sleep(0)  # one turn of the loop: one class, then the task gives the loop back
        after_one_turn = [_processed(First), _processed(Second)]
        await task
        return after_one_turn

    loop = asyncio.new_event_loop()  # not asyncio.run: it leaves no current loop for later tests that ask for one
    try:
        assert loop.run_until_complete(run()) == [True, False]
    finally:
        loop.close()
    assert _processed(Second) and not pending_classes()


# Modules whose code worker threads run (asyncio.to_thread, executors, their own threads): their classes must be
# processed at import, since a lazy class processed by one thread while another creates an instance can give that
# instance object.__init__ (desktop/lazy_dataclass.py).
_WORKER_THREAD_MODULES = (
    "desktop.storage",
    "desktop.auth",
    "desktop.client",
    "desktop.simulator",
    "desktop.messages",
    "desktop.log",
    "desktop.clouds",
    "desktop.config._endpoint",
)


def test_no_class_used_by_a_worker_thread_is_lazy() -> None:
    for module in pkgutil.walk_packages(desktop.__path__, "desktop."):
        if module.name != "desktop.__main__":
            importlib.import_module(module.name)
    lazy = {c.__module__ for c in deferred_classes()}
    assert lazy, "the app has lazy dataclasses (else this test checks nothing)"
    assert not {m for m in lazy if m.startswith(_WORKER_THREAD_MODULES)}
