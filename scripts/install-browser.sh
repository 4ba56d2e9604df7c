#!/usr/bin/env bash
# Install the browser for the article viewer's tests (pytest -m browser): Debian's chromium,
# driven by Playwright for Python from the dev extra. `playwright install` is never used:
# it downloads a browser build, which air-gapped and CI machines must not do.
# Idempotent: does nothing when chromium is already on PATH. Needs root or sudo.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    echo "chromium is already installed: $(command -v chromium)"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q chromium
echo "installed: $(command -v chromium)"
