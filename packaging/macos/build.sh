#!/usr/bin/env bash
# Build the macOS app and disk image: icons (.icns via iconutil), PyInstaller .app, codesign, .dmg, notarization.
#
#   bash packaging/macos/build.sh
#
# Signing and notarization run only when their variables are set (otherwise the .app is ad-hoc signed):
#   MACOS_SIGN_IDENTITY      e.g. "Developer ID Application: Example Ltd (TEAMID1234)"
#   MACOS_CERT_P12_BASE64    the identity's certificate + key (.p12) as base64, imported into a temporary keychain
#   MACOS_CERT_PASSWORD      its password
#   APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD   for `xcrun notarytool submit --wait`, then `stapler staple`
# Output: dist/azure-openai-chat-<version>-macos-<arch>.dmg
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
NAME=azure-openai-chat
APP="dist/Azure OpenAI Chat.app"
VERSION="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' desktop/__init__.py)"
DMG="dist/$NAME-$VERSION-macos-$(uname -m).dmg"
ICONS="$ROOT/build/icons"
start=$SECONDS
step() { echo "build.sh: [$((SECONDS - start)) s] $*"; }
KEYCHAIN=""
cleanup() { [ -z "$KEYCHAIN" ] || security delete-keychain "$KEYCHAIN" || true; }
trap cleanup EXIT

step "rendering icons and the .icns"
"$PYTHON" packaging/render_icons.py --out "$ICONS"
iconutil -c icns "$ICONS/$NAME.iconset" -o "$ICONS/$NAME.icns"

step "PyInstaller .app"
AOC_ICONS_DIR="$ICONS" "$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller "packaging/pyinstaller/$NAME.spec"
[ -d "$APP" ] || { echo "build.sh: PyInstaller produced no $APP" >&2; exit 1; }

step "smoke test of the .app"
"$APP/Contents/MacOS/$NAME" --profile-dir "$(mktemp -d)" --smoke-test

if [ -n "${MACOS_SIGN_IDENTITY:-}" ] && [ -n "${MACOS_CERT_P12_BASE64:-}" ]; then
    step "codesign with $MACOS_SIGN_IDENTITY"
    KEYCHAIN="$(mktemp -d)/aoc-signing.keychain-db"
    KEYCHAIN_PASSWORD="$(uuidgen)"
    security create-keychain -p "$KEYCHAIN_PASSWORD" "$KEYCHAIN"
    security set-keychain-settings -lut 3600 "$KEYCHAIN"
    security unlock-keychain -p "$KEYCHAIN_PASSWORD" "$KEYCHAIN"
    P12="$(mktemp)"
    base64 --decode <<<"$MACOS_CERT_P12_BASE64" >"$P12"
    security import "$P12" -k "$KEYCHAIN" -P "${MACOS_CERT_PASSWORD:-}" -T /usr/bin/codesign
    rm -f "$P12"
    security set-key-partition-list -S apple-tool:,apple: -s -k "$KEYCHAIN_PASSWORD" "$KEYCHAIN" >/dev/null
    # Put the temporary keychain first in the search list, keeping the user's own keychains after it.
    read -r -a keychains <<<"$(security list-keychains -d user | tr -d '"' | tr '\n' ' ')"
    security list-keychains -d user -s "$KEYCHAIN" "${keychains[@]}"
    # Hardened runtime is required for notarization; --deep signs the bundled Qt frameworks and libraries too.
    codesign --force --deep --options runtime --timestamp --sign "$MACOS_SIGN_IDENTITY" "$APP"
    codesign --verify --deep --strict --verbose=2 "$APP"
else
    step "codesign skipped (MACOS_SIGN_IDENTITY / MACOS_CERT_P12_BASE64 not set): ad-hoc signature only"
    codesign --force --deep --sign - "$APP"
fi

step "disk image"
rm -f "$DMG"
STAGING="$(mktemp -d)"
cp -R "$APP" "$STAGING/"
ln -s /Applications "$STAGING/Applications"
hdiutil create -volname "Azure OpenAI Chat" -srcfolder "$STAGING" -fs HFS+ -format UDZO -ov "$DMG" >/dev/null
rm -rf "$STAGING"
[ -z "${MACOS_SIGN_IDENTITY:-}" ] || [ -z "$KEYCHAIN" ] || codesign --sign "$MACOS_SIGN_IDENTITY" --timestamp "$DMG"

if [ -n "$KEYCHAIN" ] && [ -n "${APPLE_ID:-}" ] && [ -n "${APPLE_TEAM_ID:-}" ] && [ -n "${APPLE_APP_PASSWORD:-}" ]; then
    step "notarization (notarytool, waits for Apple)"
    xcrun notarytool submit "$DMG" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
        --password "$APPLE_APP_PASSWORD" --wait
    xcrun stapler staple "$DMG"
else
    step "notarization skipped (needs a signing identity and APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD)"
fi

step "done: app $(du -sh "$APP" | cut -f1), dmg $(du -h "$DMG" | cut -f1): $DMG"
