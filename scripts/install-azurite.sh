#!/usr/bin/env bash
# Installs the Azure Blob Storage emulator (npm package "azurite") into a cache folder outside
# the repository, one folder per version, and points a stable link at it:
#   ${CATSITE_CACHE_DIR:-~/.cache/catsite}/node/azurite-<version>/   the npm install
#   ${CATSITE_CACHE_DIR:-~/.cache/catsite}/node/bin/azurite-blob      the link the tests run
# Idempotent: a second run with the same version installs nothing. Installs Debian's node and
# npm when they are missing. Prints the path of azurite-blob on its last line.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

AZURITE_VERSION="${AZURITE_VERSION:-3.37.0}"
cache_dir="$CATSITE_CACHE_DIR/node"
install_dir="$cache_dir/azurite-$AZURITE_VERSION"
binary="$install_dir/node_modules/.bin/azurite-blob"
link="$cache_dir/bin/azurite-blob"

if [ ! -x "$binary" ]; then
    command -v npm >/dev/null 2>&1 || apt_install nodejs npm
    log "Installing azurite@$AZURITE_VERSION into $install_dir"
    # Install into a temporary folder and rename it, so an interrupted install never looks done.
    mkdir -p "$cache_dir"
    staging="$(mktemp -d "$cache_dir/.azurite-$AZURITE_VERSION.XXXXXX")"
    trap 'rm -rf "$staging"' EXIT
    # --no-audit/--no-fund: no extra network calls; the emulator's own telemetry is switched
    # off where the tests start it (--disableTelemetry).
    npm install --prefix "$staging" --no-audit --no-fund --no-save --loglevel=error \
        "azurite@$AZURITE_VERSION" >&2
    rm -rf "$install_dir"
    mv "$staging" "$install_dir"
    trap - EXIT
fi

mkdir -p "$cache_dir/bin"
ln -sfn "$binary" "$link"
echo "$link"
