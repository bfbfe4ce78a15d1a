"""Start-up: process start to first painted main window, and peak memory, against a bare PySide6 window.

Both are started as fresh processes with the offscreen platform and print "first paint after N ms" measured from the
process's start time in /proc. Resident memory (VmRSS) is read by this process from /proc/PID/status as soon as that
line arrives, the same way for both (`wait4`'s ru_maxrss is no use: Linux carries the parent's peak into the child).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from desktop.paths import AppPaths
from tests.benchmarks._env import child_env
from tests.benchmarks._history import write_history
from tests.benchmarks._report import Figure, median

_FIRST_PAINT = re.compile(r"first paint after (\d+) ms")
_BARE = Path(__file__).with_name("bare_window.py")
BASELINE = "bare window"
EMPTY = "app, empty profile"
INSTALLED = "installed .deb, empty profile"
SHARED_LIBPYTHON = "source run on the bundle's libpython, empty profile"
# Where the .deb puts the PyInstaller bundle (packaging/linux/build-deb.sh); measured when present.
DEFAULT_INSTALLED = Path("/opt/azure-openai-chat/azure-openai-chat")


@dataclass(frozen=True)
class Start:
    """One start: the child's own figure, the parent's spawn-to-line figure, and the child's RSS at that point."""

    first_paint_ms: float
    outside_ms: float
    rss_mb: float


@dataclass(frozen=True)
class Case:
    """One way of starting: a command line and an optional history to pre-fill."""

    name: str
    conversations: int = 0
    messages_each: int = 0


def _app_command(profile: Path) -> list[str]:
    # Exactly what the installed entry point runs (`azure-openai-chat`), without depending on the venv's bin dir.
    return [sys.executable, "-c", "import sys; from desktop.app import main; sys.exit(main())",
            "--profile-dir", str(profile), "--smoke-test"]  # fmt: skip


# The smallest program that runs Python from a shared libpython, as PyInstaller's bootloader does.
_EMBED_C = "#include <Python.h>\nint main(int argc, char **argv) { return Py_BytesMain(argc, argv); }\n"


def shared_libpython_python(installed: Path, where: Path) -> Path | None:
    """A `python` for the source run that runs on the bundle's shared libpython instead of this interpreter.

    Debian's /usr/bin/python3.11 is statically linked; a PyInstaller bundle can only load the shared
    libpython3.11.so, which Debian builds differently. The same source run on both interpreters splits the bundle's
    gap into the interpreter's part and the bundle's own. The program is compiled here (cc and Python.h, as
    packaging/dev/bootstrap.sh installs) and placed in a copy of this venv's layout, so sys.path is the same.
    None when the bundle has no libpython (not a Linux bundle) or there is no compiler or Python.h.
    """
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    libpython = installed.parent / "_internal" / f"libpython{version}.so.1.0"
    include = Path(sysconfig.get_paths()["include"])
    cc = shutil.which("cc") or shutil.which("gcc")
    if not libpython.is_file() or not (include / "Python.h").is_file() or cc is None:
        return None
    (where / "bin").mkdir(parents=True, exist_ok=True)
    if sys.prefix != sys.base_prefix:  # a venv: the same pyvenv.cfg and site-packages
        shutil.copy(Path(sys.prefix) / "pyvenv.cfg", where / "pyvenv.cfg")
        (where / "lib" / f"python{version}").mkdir(parents=True, exist_ok=True)
        site_packages = Path(sysconfig.get_paths()["purelib"])
        (where / "lib" / f"python{version}" / "site-packages").symlink_to(site_packages, target_is_directory=True)
    source = where / "embed.c"
    source.write_text(_EMBED_C, encoding="ascii")
    python = where / "bin" / "python"
    build = [
        cc,
        "-O2",
        "-o",
        str(python),
        str(source),
        f"-I{include}",
        str(libpython),
        f"-Wl,-rpath,{libpython.parent}",
    ]
    if subprocess.run(build, capture_output=True, check=False).returncode != 0:
        return None
    return python


def _rss_mb(pid: int) -> float:
    """VmRSS of a live process in MB; 0 if it has already exited (then the start is reported as failed)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            return next((int(line.split()[1]) / 1024 for line in f if line.startswith("VmRSS:")), 0.0)
    except OSError:
        return 0.0


def start_once(name: str, argv: list[str]) -> Start:
    """Run one process to its first paint and exit; raise with its stderr if it fails."""
    env = child_env()
    with tempfile.TemporaryFile("w+") as errors:
        spawned = time.perf_counter()
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errors, text=True, env=env)
        assert process.stdout is not None
        painted: float | None = None
        outside = rss = 0.0
        for line in process.stdout:
            if (match := _FIRST_PAINT.search(line)) and painted is None:
                outside = (time.perf_counter() - spawned) * 1000
                painted = float(match.group(1))
                rss = _rss_mb(process.pid)
        process.wait()
        if process.returncode != 0 or painted is None or not rss:
            errors.seek(0)
            lines = errors.read().strip().splitlines() or ["(no output)"]
            raise RuntimeError(
                f"{name}: exit status {process.returncode}, first paint {painted}, RSS {rss:.0f} MB: {lines[-1]}\n"
                + "\n".join(lines[-8:])
            )
    return Start(painted, outside, rss)


def run(
    runs: int = 5, large: tuple[int, int] = (1_000, 50), installed: Path | None = DEFAULT_INSTALLED
) -> list[Figure]:
    """Start the bare window and the app (empty, medium and large history) `runs` times each, round-robin.

    With an installed bundle (`installed` exists), it is started with an empty profile too, against the source run.
    """
    conversations, each = large
    cases = [
        Case(EMPTY),
        Case(f"app, {conversations // 10:,} conv / {conversations * each // 10:,} msgs", conversations // 10, each),
        Case(f"app, {conversations:,} conv / {conversations * each:,} msgs", conversations, each),
    ]
    root = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    try:
        commands = {BASELINE: [sys.executable, str(_BARE)]}
        for i, case in enumerate(cases):
            profile = root / f"profile{i}"
            if case.conversations:
                write_history(AppPaths.under(profile).history_file, case.conversations, case.messages_each)
            commands[case.name] = _app_command(profile)
        if installed is not None and installed.is_file():
            commands[INSTALLED] = [str(installed), "--profile-dir", str(root / "installed"), "--smoke-test"]
            if shared := shared_libpython_python(installed, root / "shared-libpython"):
                commands[SHARED_LIBPYTHON] = [str(shared), *_app_command(root / "shared")[1:]]
        for name, argv in commands.items():
            start_once(name, argv)  # warm-up: page cache, bytecode, the profile's first-run files
        starts: dict[str, list[Start]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, argv in commands.items():
                starts[name].append(start_once(name, argv))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    out = figures(starts, large_case=cases[-1].name)
    return out + _installed_figures(starts, installed)


def _installed_figures(starts: dict[str, list[Start]], installed: Path | None) -> list[Figure]:
    """The installed bundle's first paint against the source run's, both with an empty profile."""
    budget = "<= x1.0 (no worse)"
    if INSTALLED not in starts:
        where = installed or DEFAULT_INSTALLED
        note = f"no bundle at {where}: build and install the .deb (packaging/linux/build-deb.sh) or pass --installed"
        return [Figure("start-up", f"{INSTALLED}: first paint", 0, "", budget=budget, budget_row="deb_paint",
                       note=note)]  # fmt: skip
    paint = median([s.first_paint_ms for s in starts[INSTALLED]])
    source = median([s.first_paint_ms for s in starts[EMPTY]])
    out = [
        Figure("start-up", f"{INSTALLED}: first paint", paint, "ms", source, f"source run, {EMPTY}",
               len(starts[INSTALLED]), budget, paint <= source, "deb_paint"),
    ]  # fmt: skip
    if SHARED_LIBPYTHON in starts:  # the interpreter's part of the gap, then the bundle's own
        shared = median([s.first_paint_ms for s in starts[SHARED_LIBPYTHON]])
        out += [
            Figure("start-up", f"{SHARED_LIBPYTHON}: first paint", shared, "ms", source, f"source run, {EMPTY}",
                   len(starts[SHARED_LIBPYTHON])),
            Figure("start-up", f"{INSTALLED}: first paint", paint, "ms", shared, SHARED_LIBPYTHON,
                   len(starts[INSTALLED])),
        ]  # fmt: skip
    return out


def figures(starts: dict[str, list[Start]], large_case: str) -> list[Figure]:
    """First paint (own clock and from outside) and RSS of each case against the bare window."""
    base = starts[BASELINE]
    paint0 = median([s.first_paint_ms for s in base])
    outside0 = median([s.outside_ms for s in base])
    rss0 = median([s.rss_mb for s in base])
    out = [
        Figure("start-up", f"{BASELINE}: first paint", paint0, "ms", runs=len(base)),
        Figure("start-up", f"{BASELINE}: RSS at first paint", rss0, "MB", runs=len(base)),
    ]
    for name, measured in starts.items():
        if name in (BASELINE, INSTALLED, SHARED_LIBPYTHON):
            continue
        paint = median([s.first_paint_ms for s in measured])
        rss = median([s.rss_mb for s in measured])
        judged = name == large_case
        out += [
            Figure("start-up", f"{name}: first paint", paint, "ms", paint0, BASELINE, len(measured),
                   "<= x1.5" if judged else "", paint <= 1.5 * paint0 if judged else None,
                   "startup_paint" if judged else ""),
            Figure("start-up", f"{name}: spawn to paint line (parent clock)",
                   median([s.outside_ms for s in measured]), "ms", outside0, BASELINE, len(measured)),
            Figure("start-up", f"{name}: RSS at first paint", rss, "MB", rss0, BASELINE, len(measured),
                   "<= x1.5" if judged else "", rss <= 1.5 * rss0 if judged else None,
                   "startup_rss" if judged else ""),
        ]  # fmt: skip
    return out
