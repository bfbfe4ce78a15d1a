"""What each lock file covers, and a digest of the pyproject.toml inputs it was compiled from.

`refresh.sh` asks this script for uv's arguments and writes the digest into each lock's first line;
tests/packaging/test_lock_files.py recomputes it, so a dependency change without a refresh fails the tests.

    python packaging/lock/targets.py names | args NAME | digest NAME
"""

from __future__ import annotations

import hashlib
import json
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

LOCK_DIR = Path(__file__).resolve().parent
PYPROJECT = LOCK_DIR.parents[1] / "pyproject.toml"
DIGEST_PREFIX = "# inputs-sha256: "


@dataclass(frozen=True)
class Target:
    python: str
    platform: str  # uv's --python-platform
    extras: tuple[str, ...]


TARGETS = {
    # Debian 12's Python. glibc 2.35 is the oldest that builds (release.yml's ubuntu-22.04; Debian 12 has 2.36):
    # plain x86_64-unknown-linux-gnu means manylinux_2_17, which would hold PySide6 back to 6.9 for no reason.
    "linux": Target("3.11", "x86_64-manylinux_2_35", ("linux-keyring", "package")),
    # release.yml's macos-latest runner is Apple silicon.
    "macos": Target("3.11", "aarch64-apple-darwin", ("package",)),
    # The Windows build (release.yml and the wine build of packaging/windows) uses Python 3.12.
    "windows": Target("3.12", "x86_64-pc-windows-msvc", ("package",)),
}


def constraints_file(name: str) -> Path:
    return LOCK_DIR / f"{name}-constraints.txt"


def lock_file(name: str) -> Path:
    return LOCK_DIR / f"{name}.txt"


def uv_args(name: str) -> list[str]:
    target = TARGETS[name]
    args = ["--python-version", target.python, "--python-platform", target.platform]
    for extra in target.extras:
        args += ["--extra", extra]
    if constraints_file(name).exists():
        args += ["-c", str(constraints_file(name).relative_to(LOCK_DIR.parents[1]))]
    return args


def inputs_digest(name: str) -> str:
    """sha256 over everything the lock depends on: the runtime dependencies, its extras, its target, its constraints."""
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    target = TARGETS[name]
    constraints = constraints_file(name)
    inputs = {
        "dependencies": project["dependencies"],
        "extras": {extra: project["optional-dependencies"][extra] for extra in target.extras},
        "target": [target.python, target.platform],
        "constraints": constraints.read_text(encoding="utf-8") if constraints.exists() else "",
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def main(argv: list[str]) -> int:
    if argv[:1] == ["names"]:
        print(" ".join(TARGETS))
    elif len(argv) == 2 and argv[0] == "args" and argv[1] in TARGETS:
        print(" ".join(uv_args(argv[1])))
    elif len(argv) == 2 and argv[0] == "digest" and argv[1] in TARGETS:
        print(inputs_digest(argv[1]))
    else:
        print(f"usage: targets.py names | args NAME | digest NAME  (NAME: {', '.join(TARGETS)})", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
