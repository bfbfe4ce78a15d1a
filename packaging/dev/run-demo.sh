#!/usr/bin/env bash
# Install what the app needs (first time only) and start it in demo mode, against the built-in simulator.
# Extra arguments go to the app, e.g. `--profile-dir /tmp/trial`.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
bash "$repo/packaging/dev/bootstrap.sh" runtime
exec "$repo/.venv/bin/azure-openai-chat" --demo "$@"
