#!/usr/bin/env bash
# Install what the app needs (first time only; later runs skip it, offline too) and start it in demo mode, against
# the built-in simulator. Extra arguments go to the app, e.g. `--profile-dir /tmp/trial` or `--smoke-test`.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
bash "$repo/packaging/dev/bootstrap.sh" runtime
exec "$repo/.venv/bin/azure-openai-chat" --demo "$@"
