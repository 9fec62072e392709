#!/usr/bin/env bash
# Installs what the browser tests (tests/browser/) need, outside the Python venv:
#   - Debian's Chromium (/usr/bin/chromium), which Playwright drives; Playwright's own browser
#     download cannot work on machines that reach only the package registries;
#   - the npm package axe-core (accessibility checks), one folder per version:
#     ${CATSITE_CACHE_DIR:-~/.cache/catsite}/node/axe-core-<version>/node_modules/axe-core/axe.min.js
#     and a stable link ${CATSITE_CACHE_DIR:-~/.cache/catsite}/node/axe.min.js that the tests read.
# Idempotent and non-interactive (CI runs it as root). Prints the path of axe.min.js last.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

AXE_CORE_VERSION="${AXE_CORE_VERSION:-4.14.1}"
cache_dir="$CATSITE_CACHE_DIR/node"
install_dir="$cache_dir/axe-core-$AXE_CORE_VERSION"
script="$install_dir/node_modules/axe-core/axe.min.js"
link="$cache_dir/axe.min.js"

# chromium-driver is not used by Playwright; it comes along for anyone who prefers WebDriver,
# and fonts-dejavu-core gives screenshots the same text metrics on every machine.
apt_install chromium chromium-driver fonts-dejavu-core
[ -x /usr/bin/chromium ] || die "/usr/bin/chromium is missing after installing chromium"

if [ ! -f "$script" ]; then
  command -v npm >/dev/null 2>&1 || apt_install nodejs npm
  log "Installing axe-core@$AXE_CORE_VERSION into $install_dir"
  mkdir -p "$cache_dir"
  # Install into a temporary folder and rename it, so an interrupted install never looks done.
  staging="$(mktemp -d "$cache_dir/.axe-core-$AXE_CORE_VERSION.XXXXXX")"
  trap 'rm -rf "$staging"' EXIT
  npm install --prefix "$staging" --no-audit --no-fund --no-save --loglevel=error \
    "axe-core@$AXE_CORE_VERSION" >&2
  [ -f "$staging/node_modules/axe-core/axe.min.js" ] || die "axe-core has no axe.min.js"
  rm -rf "$install_dir"
  mv "$staging" "$install_dir"
  trap - EXIT
fi

ln -sfn "$script" "$link"
echo "$link"
