#!/usr/bin/env bash
# Re-make the hashed lock files packaging/lock/{linux,macos,windows}.txt from pyproject.toml with `uv pip compile`.
# Needs the PyPI index and uv (pinned in the test extra: run `bash packaging/dev/bootstrap.sh test` first).
#
#   bash packaging/lock/refresh.sh [--upgrade] [NAME ...]     NAME: linux, macos, windows (default: all)
#
# Without --upgrade, uv keeps every pin that still satisfies pyproject.toml and changes only what must change.
# packaging/lock/<NAME>-constraints.txt, when it exists, holds versions back for that platform (passed as -c).
# Each lock's first line is a digest of its inputs (packaging/lock/targets.py); the tests fail when it is stale.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
python=${PYTHON:-.venv/bin/python}
uv=${UV:-.venv/bin/uv}
[ -x "$uv" ] || { echo "refresh.sh: no $uv; run: bash packaging/dev/bootstrap.sh test" >&2; exit 2; }
upgrade=()
if [ "${1:-}" = --upgrade ]; then upgrade=(--upgrade); shift; fi
read -r -a names <<<"${*:-$("$python" packaging/lock/targets.py names)}"
for name in "${names[@]}"; do
  read -r -a args <<<"$("$python" packaging/lock/targets.py args "$name")"
  lock=packaging/lock/$name.txt
  tmp=$(mktemp)
  [ -f "$lock" ] && cp "$lock" "$tmp"
  "$uv" pip compile pyproject.toml "${args[@]}" "${upgrade[@]}" --generate-hashes --quiet \
    --custom-compile-command "bash packaging/lock/refresh.sh" -o "$tmp"
  { echo "# inputs-sha256: $("$python" packaging/lock/targets.py digest "$name")"; grep -v '^# inputs-sha256: ' "$tmp"; } >"$lock"
  rm -f "$tmp"
  echo "refresh.sh: $lock ($(grep -c '==' "$lock") pins)"
done
