#!/usr/bin/env bash
# Install what the tests need (first time only), then run every quality gate and the whole test suite.
# Keyring and Entra tests get a private D-Bus session with a throw-away, unlocked GNOME Keyring, so they never touch
# your real keyring. Set AOC_REQUIRE_KEYRING=1 to make "no Secret Service" a failure instead of a skip (CI does).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
bash packaging/dev/bootstrap.sh test

echo "== ruff format";  .venv/bin/ruff format --check desktop tests packaging
echo "== ruff check";   .venv/bin/ruff check desktop tests packaging
echo "== mypy --strict"; .venv/bin/mypy desktop
echo "== import contracts"; .venv/bin/lint-imports

export QT_QPA_PLATFORM=offscreen
echo "== pytest"
if command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  mkdir -p "$scratch/home" "$scratch/data"
  HOME="$scratch/home" XDG_DATA_HOME="$scratch/data" dbus-run-session -- bash -c '
    printf "ci-keyring-password" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    exec .venv/bin/pytest "$@"' pytest "$@"
else
  .venv/bin/pytest "$@"
fi
