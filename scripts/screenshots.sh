#!/usr/bin/env bash
# Renews the README's screenshots in docs/screenshots/ (desktop 1280x800 and phone 390x844,
# full page): runs the browser journeys with SCREENSHOTS=1, which also checks every page they
# show. Needs what scripts/install-browser.sh installs (Chromium, axe-core).
#
#   ./scripts/screenshots.sh
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

ensure_venv dev
cd "$CATSITE_ROOT"
scripts/install-browser.sh >/dev/null
SCREENSHOTS=1 python -m pytest tests/browser -q -p no:cacheprovider "$@"
ls -l docs/screenshots/*.png
