#!/usr/bin/env bash
# Re-make the README's screenshots: the real app in demo mode on a virtual X display (Xvfb).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
out=${1:-resources/screenshots}
shift || true  # then which to make: light, dark, usage (default all)
exec xvfb-run -a -s "-screen 0 1400x1000x24" env -u QT_QPA_PLATFORM .venv/bin/python packaging/dev/screenshots.py "$out" "$@"
