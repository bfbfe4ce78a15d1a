#!/usr/bin/env bash
# Windows installer check for CI, on Debian 12 as root: install the tools (wine, nsis, osslsigncode), build the
# installer test-signed with a throw-away certificate, verify the signatures, then in a fresh wine prefix:
# silent install of an older build, write user data with it, silent upgrade (data kept byte for byte), smoke tests
# of the installed app (plain and --demo, offscreen Qt), a key round trip through the app's key store (Windows
# Credential Manager as wine provides it), the history seeded before the upgrade, silent uninstall (program files
# gone, data kept), and a silent /PURGE uninstall (data gone).
#
#   packaging/windows/ci-check.sh [--skip-build]   (--skip-build: use the bundle already in build/windows/dist)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
NAME=azure-openai-chat
APP_NAME="Azure OpenAI Chat"
UNINSTALL_KEY='HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\AzureOpenAIChat'
OLD_VERSION=0.0.1
WORK="$(mktemp -d /tmp/aoc-win-check.XXXXXX)"
start=$SECONDS

fail() { echo "ci-check (windows): FAILED: $*" >&2; exit 1; }
step() { echo "ci-check (windows): [$((SECONDS - start)) s] $*"; }
cleanup() {
    wine_stop 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "ci-check (windows): FAILED at line $LINENO: $BASH_COMMAND" >&2' ERR

missing=()
for package in wine wine64 nsis osslsigncode unzip openssl; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    step "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends "${missing[@]}" >"$WORK/apt.log" 2>&1 \
        || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" \
            >"$WORK/apt.log" 2>&1; } \
        || { cat "$WORK/apt.log" >&2; fail "apt-get install ${missing[*]}"; }
fi

# shellcheck source=packaging/windows/wine-env.sh
source "$ROOT/packaging/windows/wine-env.sh"

step "a throw-away self-signed code-signing certificate"
openssl req -x509 -newkey rsa:3072 -sha256 -nodes -days 2 -subj "/CN=Azure OpenAI Chat CI test signing" \
    -addext "extendedKeyUsage=codeSigning" -addext "keyUsage=digitalSignature" \
    -keyout "$WORK/sign.key" -out "$WORK/sign.crt" 2>/dev/null
WINDOWS_CERT_PASSWORD="$(openssl rand -hex 16)"
openssl pkcs12 -export -inkey "$WORK/sign.key" -in "$WORK/sign.crt" -out "$WORK/sign.pfx" \
    -passout "pass:$WINDOWS_CERT_PASSWORD"
export WINDOWS_CERT_PFX="$WORK/sign.pfx" WINDOWS_CERT_PASSWORD
unset WINDOWS_CERT_PFX_BASE64 WINDOWS_TIMESTAMP_URL
verify_signature() {
    osslsigncode verify -CAfile "$WORK/sign.crt" -in "$1" >"$WORK/verify.log" 2>&1 \
        || { cat "$WORK/verify.log" >&2; fail "the signature of $(basename "$1") does not verify"; }
    grep -q "CN=Azure OpenAI Chat CI test signing" "$WORK/verify.log" || fail "$(basename "$1") has another signer"
}

VERSION="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' desktop/__init__.py)"
SETUP="dist/$NAME-$VERSION-windows-x64-setup.exe"
if [ "${1:-}" = "--skip-build" ]; then
    step "packing the installer from the existing bundle"
    bash packaging/windows/sign.sh "build/windows/dist/$NAME/$NAME.exe"
    bash packaging/windows/build-installer.sh --reuse-bundle
else
    step "building the installer (build-installer.sh)"
    bash packaging/windows/build-installer.sh
fi
[ -f "$SETUP" ] || fail "no $SETUP"
verify_signature "$SETUP"
verify_signature "build/windows/dist/$NAME/$NAME.exe"
step "signatures of the installer and the app verify (test certificate)"
step "building the older installer ($OLD_VERSION) for the upgrade test"
bash packaging/windows/build-installer.sh --reuse-bundle --fast --version "$OLD_VERSION" --out "$WORK/old" >/dev/null
OLD_SETUP="$WORK/old/$NAME-$OLD_VERSION-windows-x64-setup.exe"

export WINEPREFIX="$WORK/prefix"
wine_prefix_init
local_appdata="$(winepath -u "$(timeout 120 wine cmd /c 'echo %LOCALAPPDATA%' </dev/null 2>/dev/null | tr -d '\r' | tail -n1)")"
start_menu="$(winepath -u "$(timeout 120 wine cmd /c 'echo %APPDATA%' </dev/null 2>/dev/null | tr -d '\r' | tail -n1)")"
start_menu="$start_menu/Microsoft/Windows/Start Menu/Programs"
[ -d "$local_appdata" ] || fail "no LOCALAPPDATA folder in the prefix ($local_appdata)"
INSTDIR="$local_appdata/Programs/$APP_NAME"
EXE="$INSTDIR/$NAME.exe"
DATA="$local_appdata/AzureOpenAIChat/$NAME"

reg_value() {  # reg_value NAME: a value of the uninstall key, or nothing
    timeout 120 wine reg query "$UNINSTALL_KEY" /v "$1" </dev/null 2>/dev/null | tr -d '\r' \
        | awk -v n="$1" '$1 == n { $1 = ""; $2 = ""; sub(/^ +/, ""); print }'
}
app() {  # app LOG ARGS...: run the installed app, output into LOG (through a pipe: see wine_run)
    local log="$1"
    shift
    # From its own folder on C:, as the Start Menu shortcut starts it. (Started from Z:, which is wine's view of
    # the Linux root, "/proc/self/stat" would open Linux's file, which no Windows has.)
    (cd "$INSTDIR" && WINE_TIMEOUT=300 wine_run "$EXE" "$@") >"$log" \
        || { cat "$log" >&2; fail "$NAME $* exited with an error (or ran for 5 minutes)"; }
}

step "silent install of $OLD_VERSION into a fresh prefix"
wine_run "$OLD_SETUP" /S >"$WORK/install-old.log" || { cat "$WORK/install-old.log" >&2; fail "old install"; }
[ -f "$EXE" ] || fail "the installer put no $EXE"
[ "$(reg_value DisplayVersion)" = "$OLD_VERSION" ] || fail "Add/Remove Programs does not show $OLD_VERSION"

step "writing user data with $OLD_VERSION"
TOKEN="ci-$(date +%s)-$$"
app "$WORK/old-smoke.log" --smoke-test
grep -q "first paint after" "$WORK/old-smoke.log" || fail "the old version printed no first paint"
app "$WORK/seed.log" --self-check seed-history "$TOKEN"
cat "$WORK/seed.log"
echo "kept across upgrades" >"$DATA/upgrade-probe.txt"
echo "left by the older version" >"$INSTDIR/_internal/stale-from-old-version.txt"
(cd "$DATA" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$WORK/user-data.sha256"
step "user data before the upgrade: $(wc -l <"$WORK/user-data.sha256") files in $DATA"

step "silent upgrade to $VERSION"
wine_run "$SETUP" /S >"$WORK/install-new.log" || { cat "$WORK/install-new.log" >&2; fail "upgrade"; }
[ "$(reg_value DisplayVersion)" = "$VERSION" ] || fail "Add/Remove Programs does not show $VERSION after the upgrade"
(cd "$DATA" && sha256sum --quiet -c "$WORK/user-data.sha256") || fail "the upgrade changed or removed user data"
[ ! -e "$INSTDIR/_internal/stale-from-old-version.txt" ] || fail "the upgrade left the old bundle's files behind"

step "Add/Remove Programs entry, shortcuts, signed uninstaller"
[ "$(reg_value DisplayName)" = "$APP_NAME" ] || fail "DisplayName"
[ "$(reg_value Publisher)" = "Azure OpenAI Chat developers" ] || fail "Publisher"
reg_value DisplayIcon | grep -qi "$NAME.exe" || fail "DisplayIcon"
reg_value UninstallString | grep -qi 'uninstall.exe' || fail "UninstallString"
reg_value QuietUninstallString | grep -qi 'uninstall.exe" /S' || fail "QuietUninstallString"
[ -n "$(reg_value EstimatedSize)" ] || fail "EstimatedSize"
[ -f "$start_menu/$APP_NAME.lnk" ] || fail "no Start Menu shortcut in $start_menu"
verify_signature "$INSTDIR/uninstall.exe"

step "the installed app on the upgraded data"
app "$WORK/version.log" --version
grep -q "$APP_NAME $VERSION" "$WORK/version.log" || fail "--version printed: $(cat "$WORK/version.log")"
app "$WORK/check.log" --self-check check-history "$TOKEN"
cat "$WORK/check.log"
app "$WORK/smoke.log" --smoke-test
grep "first paint after" "$WORK/smoke.log" || fail "--smoke-test printed no first paint"
app "$WORK/demo.log" --demo --smoke-test
grep "first paint after" "$WORK/demo.log" || fail "--demo --smoke-test printed no first paint"
app "$WORK/keystore.log" --self-check keystore
cat "$WORK/keystore.log"
grep -q "Windows Credential Manager" "$WORK/keystore.log" || fail "the key store is not Windows Credential Manager"

uninstall() {  # the uninstaller copies itself to %TEMP% and returns at once: wait for every wine process to end
    wine_run "$INSTDIR/uninstall.exe" "$@" >"$WORK/uninstall.log" || { cat "$WORK/uninstall.log" >&2; fail "uninstall"; }
    timeout 300 wineserver --wait || fail "wine processes still running 5 minutes after the uninstaller started"
}
step "silent uninstall"
uninstall /S
[ ! -e "$INSTDIR" ] || fail "the uninstaller left $(find "$INSTDIR" | head -n5)"
[ ! -e "$start_menu/$APP_NAME.lnk" ] || fail "the uninstaller left the Start Menu shortcut"
[ -z "$(reg_value DisplayName)" ] || fail "the uninstaller left the Add/Remove Programs entry"
[ -s "$DATA/upgrade-probe.txt" ] && [ -s "$DATA/history.sqlite3" ] || fail "the uninstaller deleted the user's data"

step "silent install, then silent uninstall with /PURGE"
wine_run "$SETUP" /S >"$WORK/install-again.log" || { cat "$WORK/install-again.log" >&2; fail "reinstall"; }
[ -f "$EXE" ] || fail "the reinstall put no $EXE"
uninstall /S /PURGE
[ ! -e "$INSTDIR" ] || fail "the /PURGE uninstall left program files"
[ ! -e "$DATA" ] || fail "/PURGE left the user's data in $DATA"
step "all Windows installer checks passed"
