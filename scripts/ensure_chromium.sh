#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (Playwright's own browser download is not used).
# Install it when missing and we may (root, or passwordless sudo); otherwise say what to do.
set -euo pipefail
CHROMIUM="${NCA_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ]; then
  SUDO=""
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "error: Chromium not found at $CHROMIUM; install it (Debian/Ubuntu: sudo apt-get install chromium)" \
       "or point NCA_CHROMIUM at a Chromium binary" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "error: Chromium not found at $CHROMIUM and apt-get is not available; install Chromium and set NCA_CHROMIUM" >&2
  exit 1
fi
echo "installing Debian's chromium for the browser tests..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
[ -x "$CHROMIUM" ] || { echo "error: chromium installed but $CHROMIUM is missing; set NCA_CHROMIUM" >&2; exit 1; }
