"""desktop.code_cache: code Python compiles from the same source at every start (PySide6's support modules, the
dataclasses' methods), kept for the next start and the same as compiled."""

from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.code_cache import CodeCache

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
    yield tmp_path / "cache" / "compiled-code"
    CodeCache.uninstall_for_dataclasses()


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
    # The methods' annotations are objects, as dataclasses makes them (exec without `from __future__` flags).
    out += [point.__init__.__annotations__, ranked.__init__.__annotations__, inspect.signature(options)]
    with pytest.raises(TypeError):
        options("positional")
    return [repr(value) for value in out]


def test_classes_made_with_the_cache_behave_as_without_it(cache_file: Path) -> None:
    plain = _behaviour(_shapes())
    first = CodeCache(cache_file)
    first.install_for_dataclasses()
    recorded = _behaviour(_shapes())
    first.uninstall_for_dataclasses()
    assert first.save()
    second = CodeCache(cache_file)
    assert second.load() > 0
    second.install_for_dataclasses()
    reused = _behaviour(_shapes())
    assert plain == recorded == reused
    assert (first.compiled, first.reused) == (second.reused, 0) != (0, 0)  # the second compiled nothing
    assert second.compiled == 0


def test_the_file_is_written_only_when_what_was_used_changed(cache_file: Path) -> None:
    cache = CodeCache(cache_file)
    assert not cache.save()  # nothing used yet: nothing written
    cache.install_for_dataclasses()
    _shapes()
    cache.uninstall_for_dataclasses()
    assert cache.save()
    written = cache_file.stat().st_mtime_ns
    again = CodeCache(cache_file)
    again.load()
    again.install_for_dataclasses()
    _shapes()
    again.uninstall_for_dataclasses()
    assert not again.save()  # the same sources: the file stays as it is
    assert cache_file.stat().st_mtime_ns == written
    fewer = CodeCache(cache_file)
    fewer.load()
    fewer.install_for_dataclasses()

    @dataclasses.dataclass
    class Other:
        value: int

    fewer.uninstall_for_dataclasses()
    assert fewer.save()  # only what this start used is kept: a class gone from the app leaves the file
    kept = CodeCache(cache_file)
    assert kept.load() == fewer.compiled == 3  # Other's __init__, __repr__ and __eq__; none of the shapes'
    assert Other(1) == Other(1)


@pytest.mark.parametrize(
    "content",
    [b"", b"compiled code cpython-99 0\n" + b"\xe3", b"not the header\n", "header+garbage", "header+wrong types"],
    ids=["empty", "another Python", "unknown", "corrupt", "wrong types"],
)
def test_a_bad_or_foreign_file_is_ignored_and_written_again(cache_file: Path, content: bytes | str) -> None:
    import marshal

    from desktop import code_cache

    header = code_cache._HEADER
    if content == "header+garbage":
        content = header + b"\x00\x01\x02 not marshal"
    elif content == "header+wrong types":
        content = header + marshal.dumps({"source": "not a code object"})
    cache_file.parent.mkdir(parents=True)
    assert isinstance(content, bytes)
    cache_file.write_bytes(content)
    cache = CodeCache(cache_file)
    assert cache.load() == 0
    cache.install_for_dataclasses()
    assert _behaviour(_shapes()) == _behaviour_plain()
    cache.uninstall_for_dataclasses()
    assert cache.reused == 0
    assert cache.save()
    assert CodeCache(cache_file).load() == cache.compiled


def _behaviour_plain() -> list[object]:
    CodeCache.uninstall_for_dataclasses()
    return _behaviour(_shapes())


def test_an_unwritable_cache_costs_only_the_time_it_saves(cache_file: Path) -> None:
    cache_file.mkdir(parents=True)  # (a folder where the file goes: permissions would not stop root, who runs CI)
    cache = CodeCache(cache_file)
    assert cache.load() == 0
    cache.install_for_dataclasses()
    _shapes()
    cache.uninstall_for_dataclasses()
    assert not cache.save()
    assert not any(cache_file.parent.glob("*.tmp"))


def test_uninstall_gives_dataclasses_its_own_exec_back(cache_file: Path) -> None:
    cache = CodeCache(cache_file)
    cache.install_for_dataclasses()
    assert vars(dataclasses)["exec"] == cache._dataclass_exec
    cache.uninstall_for_dataclasses()
    assert "exec" not in vars(dataclasses)
    _shapes()
    assert cache.compiled == 0


def test_a_second_start_compiles_nothing_before_its_first_paint(tmp_path: Path) -> None:
    # The first start compiles PySide6's support modules and the first frame's dataclass methods and keeps them; the
    # next compiles none of them.
    env = {**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"}
    log = tmp_path / "logs" / "azure-openai-chat.log"
    counts = []
    for _ in range(2):
        out = subprocess.run(
            [sys.executable, "-m", "desktop", "--profile-dir", str(tmp_path), "--smoke-test"],
            capture_output=True, text=True, timeout=120, env=env, check=False,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        line = [x for x in log.read_text(encoding="utf-8").splitlines() if "code before the paint" in x]
        counts.append(line[-1].rsplit(": ", 1)[1])
    compiled_first = int(counts[0].split()[0])
    assert compiled_first > 14 + 50  # PySide6's 14 support modules; about thirty classes, several methods each
    assert counts[1] == f"0 compiled, {compiled_first} kept from the last start"
    assert (tmp_path / "cache" / "compiled-code").is_file()


CALL = "def call(src):\n    return compile(src, 'm.py', 'exec')\n"
CALLERS = {"with the annotations future": "from __future__ import annotations\n" + CALL, "without": CALL}
# PySide6 reads its support modules from an archive as bytes; a coding cookie decides how compile decodes them.
SOURCES = {
    "text": "def f(x: int) -> str:\n    return str(x)\n",
    "bytes": "# -*- coding: latin-1 -*-\ndef f(x: int) -> str:\n    return 'é' + str(x)\n".encode("latin-1"),
}


@pytest.mark.parametrize("source", list(SOURCES))
@pytest.mark.parametrize("caller", list(CALLERS))
def test_compile_in_the_block_gives_the_code_compile_gives_with_the_caller_s_future_flags(
    cache_file: Path, caller: str, source: str
) -> None:
    # PySide6's loader calls compile(source, filename, "exec") from a module with `from __future__ import
    # annotations`: the cached code must carry the flags the caller's compile would have inherited.
    namespace: dict[str, Any] = {}
    exec(compile(CALLERS[caller], "caller.py", "exec", dont_inherit=True), namespace)  # noqa: S102 (not this file's flags)
    plain = namespace["call"](SOURCES[source])
    first = CodeCache(cache_file)
    with first.compiling():
        recorded = namespace["call"](SOURCES[source])
    assert first.compiled == 1
    assert first.save()
    second = CodeCache(cache_file)
    second.load()
    with second.compiling():
        reused = namespace["call"](SOURCES[source])
    assert (second.compiled, second.reused) == (0, 1)
    annotations = []
    for code in (plain, recorded, reused):
        assert (code.co_code, code.co_consts, code.co_flags, code.co_filename) == (
            plain.co_code,
            plain.co_consts,
            plain.co_flags,
            plain.co_filename,
        )
        module: dict[str, Any] = {}
        exec(code, module)  # noqa: S102
        annotations.append(module["f"].__annotations__)
        assert module["f"](1) == ("é1" if source == "bytes" else "1")
    assert annotations[0] == annotations[1] == annotations[2]
    assert annotations[0]["x"] == ("int" if caller == "with the annotations future" else int)


def test_compile_is_the_builtin_again_after_the_block_even_when_it_fails(cache_file: Path) -> None:
    import builtins

    real = builtins.compile
    cache = CodeCache(cache_file)
    seen = []

    def fail() -> None:
        with cache.compiling():
            seen.append(builtins.compile)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail()
    assert seen[0] is not real
    assert builtins.compile is real
    with cache.compiling():  # what it does not key (bytes, an AST, optimize) goes to the builtin
        assert compile(b"x = 1", "b.py", "exec", optimize=2).co_filename == "b.py"
    assert cache.compiled == 0
