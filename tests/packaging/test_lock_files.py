"""The hashed lock files (packaging/lock/*.txt) agree with pyproject.toml; checked offline, from the files alone."""

from __future__ import annotations

import importlib.util
import re
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
LOCK_DIR = REPO / "packaging" / "lock"
MARKER_ENV = {
    "linux": {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"},
    "macos": {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix"},
    "windows": {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt"},
}


def _targets() -> ModuleType:
    # packaging/ is not a Python package (its name would shadow PyPI's `packaging`): load the script by path.
    spec = importlib.util.spec_from_file_location("lock_targets", LOCK_DIR / "targets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses looks the module up while building the class
    spec.loader.exec_module(module)
    return module


TARGETS = _targets()


def _pins(text: str) -> dict[str, tuple[str, str]]:
    """name -> (version, the requirement's whole entry with its hash lines)."""
    entries = re.split(r"\n(?=[A-Za-z0-9])", text)
    pins = {}
    for entry in entries:
        match = re.match(r"([A-Za-z0-9_.-]+)==(\S+)", entry)
        if match:
            pins[canonicalize_name(match[1])] = (match[2], entry)
    return pins


@pytest.fixture(params=sorted(TARGETS.TARGETS))
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_the_lock_was_refreshed_after_the_last_dependency_change(name: str) -> None:
    first_line = TARGETS.lock_file(name).read_text(encoding="utf-8").splitlines()[0]
    assert first_line == TARGETS.DIGEST_PREFIX + TARGETS.inputs_digest(name), (
        f"pyproject.toml's dependencies (or {name}-constraints.txt) changed: run bash packaging/lock/refresh.sh {name}"
    )


def test_every_pin_is_exact_and_hashed(name: str) -> None:
    text = TARGETS.lock_file(name).read_text(encoding="utf-8")
    pins = _pins(text)
    assert len(pins) > 20
    for package, (_version, entry) in pins.items():
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", entry), f"{package} has no hash in {name}.txt"
    requirement_lines = [line for line in text.splitlines() if line and not line[0].isspace() and line[0] != "#"]
    assert all("==" in line for line in requirement_lines), requirement_lines


def test_every_dependency_of_pyproject_is_pinned_within_its_range(name: str) -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    target = TARGETS.TARGETS[name]
    pins = _pins(TARGETS.lock_file(name).read_text(encoding="utf-8"))
    wanted = [(dep, "") for dep in project["dependencies"]]
    wanted += [(dep, extra) for extra in target.extras for dep in project["optional-dependencies"][extra]]
    checked = 0
    for dep, extra in wanted:
        requirement = Requirement(dep)
        env = {**MARKER_ENV[name], "python_version": target.python, "extra": extra}
        if requirement.marker is not None and not requirement.marker.evaluate(env):
            continue
        pinned = pins.get(canonicalize_name(requirement.name))
        assert pinned is not None, f"{requirement.name} is not in {name}.txt: run bash packaging/lock/refresh.sh {name}"
        assert requirement.specifier.contains(pinned[0], prereleases=True), (name, dep, pinned[0])
        checked += 1
    assert checked >= len(project["dependencies"]) + 1  # at least PyInstaller on top of the runtime


def test_constraints_hold_in_the_lock(name: str) -> None:
    constraints = TARGETS.constraints_file(name)
    if not constraints.exists():
        return
    pins = _pins(TARGETS.lock_file(name).read_text(encoding="utf-8"))
    for line in constraints.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            assert pins[canonicalize_name(requirement.name)][0] in requirement.specifier, (name, line)


def test_windows_holds_back_what_wine_8_cannot_run_and_linux_does_not() -> None:
    windows = _pins(TARGETS.lock_file("windows").read_text(encoding="utf-8"))
    linux = _pins(TARGETS.lock_file("linux").read_text(encoding="utf-8"))
    assert windows["pyside6-essentials"][0] == "6.9.3"
    assert windows["cryptography"][0] == "42.0.8"
    assert linux["pyside6-essentials"][0] != "6.9.3"
    assert "pywin32-ctypes" in windows  # keyring's Windows backend, chosen by the target's markers
    assert "pygobject" in linux
    assert "pygobject" not in windows


def test_the_release_builds_install_from_the_locks() -> None:
    workflow = (REPO / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8")
    native = [name for name in TARGETS.TARGETS if name != "windows"]
    for name in native:
        assert f"pip install --require-hashes -r packaging/lock/{name}.txt" in workflow, name
    assert workflow.count("pip install --no-deps .") == len(native)
    assert ".[package]" not in workflow  # nothing unpinned besides the project itself
    # Windows is built on Linux (wine): the installer script installs the Windows wheels from the lock.
    windows_job = workflow.split("\n  windows:", 1)[1].split("\n  macos:", 1)[0]
    assert "packaging/windows/build-installer.sh" in windows_job
    installer = (REPO / "packaging" / "windows" / "build-installer.sh").read_text(encoding="utf-8")
    assert "--require-hashes -r packaging/lock/windows.txt" in installer
    assert f"--python-version {TARGETS.TARGETS['windows'].python}" in installer  # the interpreter the lock is for
    build_deb = (REPO / "packaging" / "linux" / "build-deb.sh").read_text(encoding="utf-8")
    assert "pip install --quiet --require-hashes -r packaging/lock/linux.txt" in build_deb
    spec = (REPO / "packaging" / "pyinstaller" / "azure-openai-chat.spec").read_text(encoding="utf-8")
    assert "pip install --require-hashes -r packaging/lock/<platform>.txt" in spec
