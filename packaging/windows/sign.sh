#!/usr/bin/env bash
# Authenticode-sign Windows files in place with osslsigncode (Debian), or say that signing is skipped.
#
#   sign.sh FILE...        sign each file (SHA-256), then check the signature's digest
#   sign.sh --available    exit 0 when a certificate is configured
# Certificate: WINDOWS_CERT_PFX (a .pfx/.p12 file) or WINDOWS_CERT_PFX_BASE64 (its base64, as a CI secret), with
# WINDOWS_CERT_PASSWORD. WINDOWS_TIMESTAMP_URL: an RFC 3161 time-stamp server (none by default: CI has no network
# beyond the package registries; a release should set one so signatures outlive the certificate).
set -euo pipefail

if [ -z "${WINDOWS_CERT_PFX:-}" ] && [ -z "${WINDOWS_CERT_PFX_BASE64:-}" ]; then
    [ "${1:-}" = "--available" ] && exit 1
    echo "sign.sh: signing skipped (no WINDOWS_CERT_PFX or WINDOWS_CERT_PFX_BASE64): $# file(s) unsigned"
    exit 0
fi
[ "${1:-}" != "--available" ] || exit 0

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
pfx="${WINDOWS_CERT_PFX:-}"
if [ -z "$pfx" ]; then
    pfx="$tmp/cert.pfx"
    base64 -d <<<"$WINDOWS_CERT_PFX_BASE64" >"$pfx"
fi
args=(sign -pkcs12 "$pfx" -pass "${WINDOWS_CERT_PASSWORD:-}" -h sha256 -n "Azure OpenAI Chat")
[ -z "${WINDOWS_TIMESTAMP_URL:-}" ] || args+=(-ts "$WINDOWS_TIMESTAMP_URL")
for file in "$@"; do
    osslsigncode "${args[@]}" -in "$file" -out "$tmp/signed" >"$tmp/log" 2>&1 \
        || { cat "$tmp/log" >&2; echo "sign.sh: signing $file failed" >&2; exit 1; }
    mv "$tmp/signed" "$file"
    echo "sign.sh: signed $(basename "$file")"
done
