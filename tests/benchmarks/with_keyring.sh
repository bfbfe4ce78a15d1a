#!/usr/bin/env bash
# Run the benchmark suite (or any command given) inside a private D-Bus session with a throw-away, unlocked GNOME
# Keyring, so the app reads its API key through the real Secret Service path, as users' machines do. Nothing touches
# your own keyring. Without dbus-run-session and gnome-keyring-daemon the command runs as is, and the results say
# that an in-memory keyring was used.
#
#   bash tests/benchmarks/with_keyring.sh [benchmark options]       runs .venv/bin/python -m tests.benchmarks
#   bash tests/benchmarks/with_keyring.sh -- COMMAND [ARGS...]      runs COMMAND instead
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
if [ "${1:-}" = "--" ]; then
  shift
else
  set -- "${PYTHON:-.venv/bin/python}" -m tests.benchmarks "$@"
fi
if ! command -v dbus-run-session >/dev/null || ! command -v gnome-keyring-daemon >/dev/null; then
  echo "with_keyring: no dbus-run-session/gnome-keyring-daemon; running without a Secret Service" >&2
  exec "$@"
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/home" "$scratch/data"
HOME="$scratch/home" XDG_DATA_HOME="$scratch/data" dbus-run-session -- bash -c '
  printf "benchmark-keyring-password" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  exec "$@"' with_keyring "$@"
