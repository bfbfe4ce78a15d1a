"""desktop.dataclass_cache: the code `dataclasses` compiles for a class's methods, kept for the next start."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.dataclass_cache import DataclassCodeCache

SHAPES = '''
import dataclasses
from dataclasses import dataclass, field

@dataclass(frozen=True)
class Point:
    """A frozen class with defaults."""
    x: int
    y: int = 0
    tags: tuple[str, ...] = ()

@dataclass(order=True)
class Ranked:
    """An ordered class with a factory default."""
    rank: int
    names: list[str] = field(default_factory=list)

@dataclass(kw_only=True, slots=True)
class Options:
    """Keyword-only, with slots."""
    name: str
    size: int = 3
'''


def _shapes() -> dict[str, type]:
    """Fresh classes of the same source, as each start defines them (in a module: dataclasses looks it up)."""
    module = types.ModuleType("_dataclass_shapes")
    sys.modules[module.__name__] = module
    try:
        exec(SHAPES, vars(module))  # noqa: S102
    finally:
        del sys.modules[module.__name__]
    return {name: value for name, value in vars(module).items() if isinstance(value, type) and name[0].isupper()}


@pytest.fixture
def cache_file(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "cache" / "dataclass-code"
    DataclassCodeCache.uninstall()


def _behaviour(classes: dict[str, type]) -> list[object]:
    """What each class does: construction, repr, equality, hashing, order, frozenness, fields, replace, slots."""
    point, ranked, options = classes["Point"], classes["Ranked"], classes["Options"]
    p = point(1, tags=("a",))
    out: list[object] = [repr(p), p == point(1, 0, ("a",)), hash(p) == hash(point(1, 0, ("a",)))]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 2  # type: ignore[attr-defined]
    out += [dataclasses.replace(p, y=5), [f.name for f in dataclasses.fields(point)]]
    out += [ranked(1) < ranked(2), ranked(1).names is not ranked(1).names, repr(ranked(2, ["b"]))]
    o = options(name="n")
    out += [repr(o), hasattr(o, "__dict__"), options.__match_args__]
    with pytest.raises(TypeError):
        options("positional")
    return [repr(value) for value in out]


def test_classes_made_with_the_cache_behave_as_without_it(cache_file: Path) -> None:
    plain = _behaviour(_shapes())
    first = DataclassCodeCache(cache_file)
    first.install()
    recorded = _behaviour(_shapes())
    first.uninstall()
    assert first.save()
    second = DataclassCodeCache(cache_file)
    assert second.load() > 0
    second.install()
    reused = _behaviour(_shapes())
    assert plain == recorded == reused
    assert (first.compiled, first.reused) == (second.reused, 0) != (0, 0)  # the second compiled nothing
    assert second.compiled == 0


def test_the_file_is_written_only_when_what_was_used_changed(cache_file: Path) -> None:
    cache = DataclassCodeCache(cache_file)
    assert not cache.save()  # nothing used yet: nothing written
    cache.install()
    _shapes()
    cache.uninstall()
    assert cache.save()
    written = cache_file.stat().st_mtime_ns
    again = DataclassCodeCache(cache_file)
    again.load()
    again.install()
    _shapes()
    again.uninstall()
    assert not again.save()  # the same sources: the file stays as it is
    assert cache_file.stat().st_mtime_ns == written
    fewer = DataclassCodeCache(cache_file)
    fewer.load()
    fewer.install()

    @dataclasses.dataclass
    class Other:
        value: int

    fewer.uninstall()
    assert fewer.save()  # only what this start used is kept: a class gone from the app leaves the file
    kept = DataclassCodeCache(cache_file)
    assert kept.load() == fewer.compiled == 3  # Other's __init__, __repr__ and __eq__; none of the shapes'
    assert Other(1) == Other(1)


@pytest.mark.parametrize(
    "content",
    [b"", b"dataclass code cpython-99 0\n" + b"\xe3", b"not the header\n", "header+garbage", "header+wrong types"],
    ids=["empty", "another Python", "unknown", "corrupt", "wrong types"],
)
def test_a_bad_or_foreign_file_is_ignored_and_written_again(cache_file: Path, content: bytes | str) -> None:
    import marshal

    from desktop import dataclass_cache

    header = dataclass_cache._HEADER
    if content == "header+garbage":
        content = header + b"\x00\x01\x02 not marshal"
    elif content == "header+wrong types":
        content = header + marshal.dumps({"source": "not a code object"})
    cache_file.parent.mkdir(parents=True)
    assert isinstance(content, bytes)
    cache_file.write_bytes(content)
    cache = DataclassCodeCache(cache_file)
    assert cache.load() == 0
    cache.install()
    assert _behaviour(_shapes()) == _behaviour_plain()
    cache.uninstall()
    assert cache.reused == 0
    assert cache.save()
    assert DataclassCodeCache(cache_file).load() == cache.compiled


def _behaviour_plain() -> list[object]:
    DataclassCodeCache.uninstall()
    return _behaviour(_shapes())


def test_an_unwritable_cache_costs_only_the_time_it_saves(cache_file: Path) -> None:
    cache_file.mkdir(parents=True)  # (a folder where the file goes: permissions would not stop root, who runs CI)
    cache = DataclassCodeCache(cache_file)
    assert cache.load() == 0
    cache.install()
    _shapes()
    cache.uninstall()
    assert not cache.save()
    assert not any(cache_file.parent.glob("*.tmp"))


def test_uninstall_gives_dataclasses_its_own_exec_back(cache_file: Path) -> None:
    cache = DataclassCodeCache(cache_file)
    cache.install()
    assert vars(dataclasses)["exec"] == cache.exec
    cache.uninstall()
    assert "exec" not in vars(dataclasses)
    _shapes()
    assert cache.compiled == 0


def test_a_second_start_compiles_no_dataclass_method_before_its_first_paint(tmp_path: Path) -> None:
    # The first start compiles the first frame's dataclass methods and keeps them; the next compiles none of them.
    env = {**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"}
    log = tmp_path / "logs" / "azure-openai-chat.log"
    counts = []
    for _ in range(2):
        out = subprocess.run(
            [sys.executable, "-m", "desktop", "--profile-dir", str(tmp_path), "--smoke-test"],
            capture_output=True, text=True, timeout=120, env=env, check=False,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        line = [x for x in log.read_text(encoding="utf-8").splitlines() if "dataclass methods before the paint" in x]
        counts.append(line[-1].rsplit(": ", 1)[1])
    compiled_first = int(counts[0].split()[0])
    assert compiled_first > 50  # about thirty classes, several methods each
    assert counts[1] == f"0 compiled, {compiled_first} kept from the last start"
    assert (tmp_path / "cache" / "dataclass-code").is_file()
