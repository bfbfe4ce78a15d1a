# shellcheck shell=bash
# Sourced by build-installer.sh and ci-check.sh: run Windows programs under Debian's wine (8.x, 64-bit) without a
# display, deterministically. Callers set WINEPREFIX first and define `fail` and `step`.
export WINEARCH=win64
export WINEDEBUG=-all
# No Mono or Gecko installer prompt when a prefix is created (neither is needed).
export WINEDLLOVERRIDES="mscoree,mshtml="
# Qt's "windows" platform plugin crashes under wine 8; "offscreen" needs no X server. Wine does not pass QT_*
# variables on to Windows programs, but a WINE-prefixed one arrives without its prefix.
export WINEQT_QPA_PLATFORM=offscreen
unset DISPLAY WAYLAND_DISPLAY QT_QPA_PLATFORM

wine_prefix_init() {
    if [ ! -f "$WINEPREFIX/system.reg" ]; then
        step "creating the wine prefix $WINEPREFIX (Windows 10)"
        mkdir -p "$WINEPREFIX"
        timeout --kill-after=10 300 wineboot --init 2>&1 | cat
        timeout 120 wine reg add 'HKCU\Software\Wine' /v Version /d win10 /f 2>&1 | cat
        wineserver --wait
    fi
}

# wine_run PROGRAM ARGS...: output through a pipe (a console program whose output goes straight to a file fails to
# start under wine 8 with "Invalid handle"); returns the program's exit status. A program still running after
# WINE_TIMEOUT seconds (default 900) is killed and fails, so a hang (say, a dialog nobody can see) cannot stall CI.
wine_run() {
    timeout --kill-after=10 "${WINE_TIMEOUT:-900}" wine "$@" 2>&1 </dev/null | cat
    return "${PIPESTATUS[0]}"
}

wine_stop() {
    [ ! -d "${WINEPREFIX:-/nonexistent}" ] || wineserver --kill 2>/dev/null || true
}
