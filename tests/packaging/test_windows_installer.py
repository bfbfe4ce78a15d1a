"""The Windows installer's sources: the bundle's self-checks, the shell scripts, and the NSIS script compiles.

The installer itself is built and exercised under wine by packaging/windows/ci-check.sh (too slow for unit tests).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from desktop import selfcheck

REPO = Path(__file__).resolve().parents[2]
WINDOWS = REPO / "packaging" / "windows"


def test_keystore_check_round_trips_a_key_and_leaves_nothing_behind(
    memory_keyring: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert selfcheck.main(["keystore"]) == 0
    assert capsys.readouterr().out.startswith("keystore ok: saved, read back and deleted a key in ")
    assert memory_keyring.store == {}


def test_keystore_check_fails_when_the_store_returns_another_key(
    memory_keyring: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def forgetful_get(service: str, username: str) -> str | None:
        return "a-different-key-0123456789" if (service, username) in memory_keyring.store else None

    monkeypatch.setattr(memory_keyring, "get_password", forgetful_get)
    assert selfcheck.main(["keystore"]) == 1
    assert "self-check keystore FAILED" in capsys.readouterr().out


def test_seeded_history_is_found_again_and_another_token_is_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = str(tmp_path / "profile")
    assert selfcheck.main(["--profile-dir", profile, "seed-history", "t1"]) == 0
    assert selfcheck.main(["--profile-dir", profile, "check-history", "t1"]) == 0
    assert selfcheck.main(["--profile-dir", profile, "check-history", "t2"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("history seeded: conversation ")
    assert lines[1].startswith("history ok: 'Upgrade probe t1'")
    assert lines[2].startswith("self-check check-history FAILED: no conversation titled 'Upgrade probe t2'")


def test_history_commands_need_a_token(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        selfcheck.main(["--profile-dir", str(tmp_path), "seed-history"])
    assert exit_info.value.code == 2


def _load_render_icons() -> ModuleType:
    # packaging/ is not a Python package (its name would shadow PyPA's `packaging`), so load the script by path.
    spec = importlib.util.spec_from_file_location("aoc_render_icons", REPO / "packaging" / "render_icons.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tool(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path=str(REPO / ".venv" / "bin"))
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


def test_windows_shell_scripts_pass_shellcheck() -> None:
    scripts = sorted(str(p) for p in WINDOWS.glob("*.sh"))
    assert scripts
    result = subprocess.run(
        [_tool("shellcheck"), "-x", "-P", str(REPO), *scripts], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_nsis_script_compiles_an_installer(tmp_path: Path, qapp: Any) -> None:
    makensis = _tool("makensis")
    bundle = tmp_path / "bundle"
    (bundle / "_internal").mkdir(parents=True)
    (bundle / "azure-openai-chat.exe").write_bytes(b"MZ stand-in for the PyInstaller launcher")
    (bundle / "_internal" / "library.txt").write_text("stand-in for the bundled libraries")
    render_icons = _load_render_icons()
    svg = REPO / "resources" / "icons" / "azure-openai-chat.svg"
    icon = tmp_path / "app.ico"
    icon.write_bytes(render_icons.ico_bytes({size: render_icons.render_png(svg, size) for size in (16, 32, 256)}))
    out = tmp_path / "setup.exe"
    result = subprocess.run(
        [
            makensis, "-V2", "-INPUTCHARSET", "UTF8", "-DVERSION=1.2.3rc1", "-DVERSION4=1.2.3.0",
            f"-DBUNDLE={bundle}", f"-DICON={icon}", f"-DOUTFILE={out}", "-DSIZE_KB=1", "-DFAST",
            str(WINDOWS / "azure-openai-chat.nsi"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert out.read_bytes()[:2] == b"MZ"
