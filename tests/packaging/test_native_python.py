"""The Linux package starts its bundle with the build machine's static Python (packaging/linux/native-python.sh)."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "packaging" / "linux" / "native-python.sh"
BOOT = REPO / "packaging" / "linux" / "native_boot.py"
SPEC = REPO / "packaging" / "pyinstaller" / "azure-openai-chat.spec"
NAME = "azure-openai-chat"
VERSION = "{}.{}".format(*sys.version_info[:2])

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("readelf") is None, reason="a Linux build step (readelf)"
)


def _interpreter() -> Path:
    return Path(os.path.realpath(sys._base_executable))  # type: ignore[attr-defined]  # (CPython has it)


def _static() -> bool:
    dynamic = subprocess.run(["readelf", "-d", str(_interpreter())], capture_output=True, text=True, check=True)
    return "Shared library: [libpython" not in dynamic.stdout


def _bundle(tmp_path: Path) -> Path:
    """A stand-in for a PyInstaller onedir bundle: a bootloader, a libpython, and in _internal what the app needs to
    say its version (the standard library, the app, its packages) as links, where PyInstaller puts compiled files."""
    bundle = tmp_path / NAME
    internal = bundle / "_internal"
    (internal / f"python{VERSION}").mkdir(parents=True)
    (bundle / NAME).write_bytes(b"\x7fELF bootloader")
    (bundle / NAME).chmod(0o755)
    (internal / f"libpython{VERSION}.so.1.0").write_bytes(b"\x7fELF libpython")
    paths = sysconfig.get_paths()
    (internal / f"python{VERSION}" / "lib-dynload").symlink_to(sysconfig.get_config_var("DESTSHARED"))
    (internal / "desktop").symlink_to(REPO / "desktop")
    for folder in (Path(paths["stdlib"]), Path(paths["purelib"])):
        for entry in folder.iterdir():
            if not (internal / entry.name).exists() and entry.name not in ("site-packages", "dist-packages"):
                (internal / entry.name).symlink_to(entry)
    return bundle


def _run(*argv: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=120, env=env, check=False)


def test_the_bundle_starts_on_the_static_interpreter_as_the_bootloader_would(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path)
    internal = bundle / "_internal"
    done = _run("bash", SCRIPT, bundle, sys.executable)
    assert done.returncode == 0, done.stderr
    if not _static():  # e.g. a pyenv build: nothing to gain, nothing changed
        assert "keeps PyInstaller's bootloader" in done.stdout
        assert (bundle / NAME).read_bytes() == b"\x7fELF bootloader"
        assert (internal / f"libpython{VERSION}.so.1.0").exists()
        return
    assert f"starts with {_interpreter()}" in done.stdout
    assert (bundle / NAME).read_text(encoding="utf-8").startswith("#!/bin/sh\n")
    assert not (internal / f"libpython{VERSION}.so.1.0").exists()  # nothing loads it any more
    assert (internal / f"{NAME}-python").read_bytes() == _interpreter().read_bytes()
    pth = (internal / f"{NAME}-python._pth").read_text(encoding="utf-8").split()
    assert pth == [f"python{VERSION}/lib-dynload", "."]

    # Started through a link, as /usr/bin/azure-openai-chat is: the app says its version.
    link = tmp_path / "bin" / NAME
    link.parent.mkdir()
    link.symlink_to(bundle / NAME)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env |= {"PYTHONPATH": "/nowhere", "VIRTUAL_ENV": "/some/venv"}  # ignored / removed, as by the bootloader
    version = _run(link, "--version", env=env)
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("Azure OpenAI Chat ")

    # What the app finds before its first line: the bootloader's sys.frozen, _MEIPASS, argv[0] and library path.
    probe = (
        "import aoc_native_boot, json, os, sys; print(json.dumps([sys.frozen, sys._MEIPASS, sys.argv[0], sys.path,"
        " os.environ.get('LD_LIBRARY_PATH'), os.environ.get('VIRTUAL_ENV'), os.environ.get('QT_PLUGIN_PATH'),"
        " sys.flags.isolated, sys.flags.no_site]))"
    )
    shown = _run(
        internal / f"{NAME}-python", "-c", probe, env=env | {"AOC_LAUNCHER": str(link), "LD_LIBRARY_PATH": "/x"}
    )
    assert shown.returncode == 0, shown.stderr
    frozen, meipass, argv0, path, _libs, venv, plugins, isolated, no_site = json.loads(shown.stdout)
    assert (frozen, Path(meipass), argv0, venv) == (True, internal, str(link), None)
    assert [Path(p) for p in path] == [internal / f"python{VERSION}" / "lib-dynload", internal]
    assert Path(plugins) == internal / "PySide6" / "Qt" / "plugins"  # the spec's Qt hook ran
    assert isolated and no_site

    again = _run("bash", SCRIPT, bundle, sys.executable)  # a package built from a reused bundle
    assert again.returncode == 0 and "its own interpreter already" in again.stdout


def test_the_native_start_runs_the_specs_run_time_hooks() -> None:
    spec = SPEC.read_text(encoding="utf-8")
    names = ast.literal_eval(spec.split('f"rthook_{name}.py") for name in ')[1].split(")]")[0] + ")")
    boot = ast.parse(BOOT.read_text(encoding="utf-8"))
    hooks = next(
        node.value
        for node in boot.body
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "RUN_TIME_HOOKS"
    )
    assert ast.literal_eval(hooks) == names
    script = SCRIPT.read_text(encoding="utf-8")
    for name in names:
        assert f'("packaging/pyinstaller/rthook_{name}.py", "aoc_rthook_{name}")' in script
