#!/usr/bin/env bash
# Start a PyInstaller bundle with the build machine's statically linked Python instead of PyInstaller's bootloader
# (why: packaging/linux/native_boot.py). build-deb.sh runs it on the bundle before packaging it.
#
#   packaging/linux/native-python.sh BUNDLE [PYTHON]
#
# BUNDLE: the onedir bundle (BUNDLE/NAME and BUNDLE/_internal). PYTHON (default .venv/bin/python): the Python that
# built it. When that Python's interpreter loads a shared libpython (not a static build), the bundle keeps
# PyInstaller's bootloader: this script says so and changes nothing. Running it again changes nothing either.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUNDLE="$(cd "${1:?usage: native-python.sh BUNDLE [PYTHON]}" && pwd)"
PYTHON="${2:-$ROOT/.venv/bin/python}"
NAME="$(basename "$BUNDLE")"
INTERNAL="$BUNDLE/_internal"
say() { echo "native-python: $*"; }

if [ -x "$INTERNAL/$NAME-python" ]; then
    say "$BUNDLE starts with its own interpreter already"
    exit 0
fi
interpreter="$("$PYTHON" -c 'import os, sys; print(os.path.realpath(sys._base_executable))')"
version="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
[ -f "$INTERNAL/libpython$version.so.1.0" ] \
    || { echo "native-python: $INTERNAL has no libpython$version.so.1.0: not a bundle made by $PYTHON" >&2; exit 1; }
if readelf -d "$interpreter" | grep -q 'Shared library: \[libpython'; then
    say "$interpreter loads a shared libpython: the bundle keeps PyInstaller's bootloader"
    exit 0
fi

install -m 0755 "$interpreter" "$INTERNAL/$NAME-python"
# sys.path: the bundle's folders only, in the bootloader's order (the ._pth file also makes the interpreter isolated).
{
    [ ! -d "$INTERNAL/python$version/lib-dynload" ] || echo "python$version/lib-dynload"
    echo "."
} >"$INTERNAL/$NAME-python._pth"
"$PYTHON" - "$INTERNAL" "$ROOT" <<'EOF'
import py_compile
import sys
from pathlib import Path

internal, root = Path(sys.argv[1]), Path(sys.argv[2])
for source, module in (
    ("packaging/linux/native_boot.py", "aoc_native_boot"),
    ("packaging/pyinstaller/rthook_qt.py", "aoc_rthook_qt"),
    ("packaging/pyinstaller/rthook_imports.py", "aoc_rthook_imports"),
    ("packaging/pyinstaller/launch.py", "aoc_launch"),
):
    py_compile.compile(str(root / source), cfile=str(internal / f"{module}.pyc"), dfile=f"{module}.py", doraise=True)
EOF
# Nothing loads the shared libpython now; the bootloader is replaced by the launcher.
rm -f "$INTERNAL/libpython$version.so.1.0" "$BUNDLE/$NAME"
cat >"$BUNDLE/$NAME" <<EOF
#!/bin/sh
# $NAME: the bundle's modules on the bundle's own Python (see aoc_native_boot.pyc beside it).
here=\$(dirname "\$(readlink -f "\$0")")
LD_LIBRARY_PATH="\$here/_internal\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" AOC_LAUNCHER="\$0" \\
    exec "\$here/_internal/$NAME-python" "\$here/_internal/aoc_launch.pyc" "\$@"
EOF
chmod 0755 "$BUNDLE/$NAME"
started="$("$BUNDLE/$NAME" --version 2>&1)" \
    || { echo "native-python: the bundle does not start on $interpreter: $started" >&2; exit 1; }
say "$BUNDLE starts with $interpreter ($started)"
