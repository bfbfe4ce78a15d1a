#!/usr/bin/env bash
# Build the Linux packages: the PyInstaller bundle, a .deb and a plain .tar.gz, all under dist/.
#
#   packaging/linux/build-deb.sh [--version X.Y.Z] [--reuse-bundle] [--no-tar]
#
#   --version X     Debian package version (default: desktop.__version__, PEP 440 pre-releases become X~rc1)
#   --reuse-bundle  package the existing dist/azure-openai-chat/ instead of running PyInstaller again
#   --no-tar        skip the .tar.gz (CI's upgrade test only needs .debs)
# Environment: PYTHON (default .venv/bin/python), OUT (default dist).
# The Python packages come from packaging/lock/linux.txt (pinned and hash-checked), so a build is reproducible;
# when they are installed already (bootstrap.sh test did it) that step needs no network.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
OUT="${OUT:-$ROOT/dist}"
NAME=azure-openai-chat
APP_ID=io.github.azure_openai_chat.AzureOpenAIChat
BUNDLE="$ROOT/dist/$NAME"
VERSION=""
REUSE=0
TAR=1
while [ $# -gt 0 ]; do
    case "$1" in
        --version) VERSION="${2:?--version needs a value}"; shift 2 ;;
        --reuse-bundle) REUSE=1; shift ;;
        --no-tar) TAR=0; shift ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "build-deb: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
if [ -z "$VERSION" ]; then
    VERSION="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' desktop/__init__.py | sed -E 's/(a|b|rc)([0-9]+)$/~\1\2/')"
fi
ARCH="$(dpkg --print-architecture)"
DEB="$OUT/${NAME}_${VERSION}_${ARCH}.deb"
TARBALL="$OUT/${NAME}-${VERSION}-linux-$(uname -m).tar.gz"
STAGE="$ROOT/build/deb/${NAME}_${VERSION}"
umask 022
start=$SECONDS
step() { echo "build-deb: [$((SECONDS - start)) s] $*"; }

if [ "$REUSE" = 0 ] || [ ! -x "$BUNDLE/$NAME" ]; then
    step "Python packages from packaging/lock/linux.txt"
    "$PYTHON" -m pip install --quiet --require-hashes -r packaging/lock/linux.txt
    # The spec bundles desktop/ from this tree (pathex); install the project too when it is not, without deps.
    "$PYTHON" -m pip show --quiet azure-openai-chat >/dev/null 2>&1 || "$PYTHON" -m pip install --quiet --no-deps .
fi

step "rendering icons"
"$PYTHON" packaging/render_icons.py --out build/icons

if [ "$REUSE" = 0 ] || [ ! -x "$BUNDLE/$NAME" ]; then
    step "PyInstaller bundle"
    AOC_ICONS_DIR="$ROOT/build/icons" "$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
        --distpath "$ROOT/dist" --workpath "$ROOT/build/pyinstaller" packaging/pyinstaller/$NAME.spec
fi
[ -x "$BUNDLE/$NAME" ] || { echo "build-deb: no bundle at $BUNDLE" >&2; exit 1; }
step "starting the bundle with this machine's static Python (packaging/linux/native_boot.py says why)"
bash packaging/linux/native-python.sh "$BUNDLE" "$PYTHON"

# Every system library the bundle loads but does not carry must come from a package in Depends (libc6 is a given).
DEPENDS="libc6 (>= $(ldd --version | sed -n '1s/.* \([0-9]\+\.[0-9]\+\)$/\1/p')), libgl1, libegl1, libfontconfig1,\
 libxkbcommon0, libdbus-1-3, libxcb1, libx11-xcb1, libxcb-cursor0, libxcb-icccm4, libxcb-image0, libxcb-keysyms1,\
 libxcb-render-util0, libxcb-shape0, libxcb-xkb1, libxkbcommon-x11-0, libwayland-client0, libwayland-cursor0,\
 libwayland-egl1"
step "checking the bundle's external libraries against Depends"
missing=""
ldcache="$(ldconfig -p)"
while read -r lib; do
    path="$(awk -v l="$lib" '$1 == l && /x86-64|AArch64|64bit/ {print $NF; exit}' <<<"$ldcache")"
    [ -n "$path" ] || { missing="$missing $lib(not-on-build-host)"; continue; }
    pkg="$(dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$path" 2>/dev/null || true)"
    pkg="${pkg%%:*}"
    case " ${DEPENDS//,/ } libc6 " in
        *" $pkg "*) ;;
        *) missing="$missing $lib(${pkg:-unowned})" ;;
    esac
done < <(comm -23 \
    <(find "$BUNDLE" -type f \( -name '*.so*' -o -perm -u+x \) -exec readelf -d {} + 2>/dev/null \
        | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | sort -u) \
    <(find "$BUNDLE" -name '*.so*' -printf '%f\n' | sort -u))
if [ -n "$missing" ]; then
    echo "build-deb: libraries the bundle needs from packages missing in Depends:$missing" >&2
    exit 1
fi

step "staging the package tree"
rm -rf "$STAGE"
mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" "$STAGE/usr/share/metainfo"
cp -a "$BUNDLE" "$STAGE/opt/$NAME"
ln -s "/opt/$NAME/$NAME" "$STAGE/usr/bin/$NAME"
install -m 0644 resources/linux/$NAME.desktop "$STAGE/usr/share/applications/$NAME.desktop"
install -m 0644 resources/linux/$APP_ID.metainfo.xml "$STAGE/usr/share/metainfo/$APP_ID.metainfo.xml"
mkdir -p "$STAGE/usr/share/icons"
cp -r build/icons/hicolor "$STAGE/usr/share/icons/hicolor"
chmod -R u+rwX,go+rX,go-w "$STAGE"

cat > "$STAGE/DEBIAN/control" <<EOF
Package: $NAME
Version: $VERSION
Architecture: $ARCH
Maintainer: Azure OpenAI Chat developers <maintainers@azure-openai-chat.invalid>
Installed-Size: $(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
Depends: $DEPENDS
Section: net
Priority: optional
Description: Azure OpenAI Chat - a desktop chat app for Azure OpenAI
 A native desktop chat application for people whose organisation runs models
 on Azure OpenAI: Entra ID sign-in or API keys kept in the system keyring,
 streaming answers with rich text, and a history that survives crashes.
EOF
install -m 0755 packaging/linux/postinst "$STAGE/DEBIAN/postinst"
install -m 0755 packaging/linux/postrm "$STAGE/DEBIAN/postrm"

step "dpkg-deb (zstd)"
mkdir -p "$OUT"
rm -f "$DEB"
dpkg-deb --root-owner-group -Zzstd --build "$STAGE" "$DEB" >/dev/null

if [ "$TAR" = 1 ]; then
    step "tar.gz"
    rm -f "$TARBALL"
    tar -C "$(dirname "$BUNDLE")" --owner=0 --group=0 -cf - "$NAME" | gzip -6 > "$TARBALL"
fi

step "done"
echo "build-deb: bundle  $(du -sh "$BUNDLE" | cut -f1)  $BUNDLE"
echo "build-deb: deb     $(du -h "$DEB" | cut -f1)  $DEB"
[ "$TAR" = 0 ] || echo "build-deb: tar.gz  $(du -h "$TARBALL" | cut -f1)  $TARBALL"
echo "build-deb: total   $((SECONDS - start)) s"
