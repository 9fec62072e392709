# shellcheck shell=bash
# The one shell library of scripts/ and deploy/ci/. Source it; it defines variables and
# functions only (each script sets its own shell options).
#
# Large installs live outside the clone, under $CATSITE_CACHE_DIR (default ~/.cache/catsite),
# keyed by the hash of what produced them, so a fresh clone (CI) reuses them and a changed
# requirements file gets a fresh one:
#   venvs/dev-<hash>/      the development venv (ensure_venv)
#   node/                  Azurite and axe-core (scripts/install-*.sh)
#   tools/bin/             helm, kubectl (extracted from a PyPI wheel)
#   tools/venv-<hash>/     linters and validators, keyed by deploy/ci/requirements-tools.txt
#   containers/            podman storage and the generated storage.conf
#   base-image/            the debootstrap rootfs tarball for localhost/debian-python:bookworm
#   wheelhouse/<hash>/     wheels for the image, keyed by requirements.txt

CATSITE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CI_DIR="$CATSITE_ROOT/deploy/ci"
CATSITE_CACHE_DIR="${CATSITE_CACHE_DIR:-$HOME/.cache/catsite}"
TOOLS_DIR="$CATSITE_CACHE_DIR/tools"
export CATSITE_CACHE_DIR
PYTHON="${PYTHON:-python3}"

# ---------------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------------
log() { printf '==> [%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# content_hash FILE...: a short, stable hash of the files' contents, the key of a cached
# install. Process substitutions count as files: content_hash req.txt <(echo "$version").
content_hash() { cat "$@" | sha256sum | cut -c1-16; }

# shell_scripts: every shell script of the project, relative to CATSITE_ROOT, one a line (what
# ShellCheck checks: scripts/lint, deploy/ci/validate-pipelines.sh).
shell_scripts() {
  (cd "$CATSITE_ROOT" && {
    find scripts -maxdepth 1 -type f
    echo .ci/run
    find deploy -name '*.sh'
  } | sort)
}

# with_lock FILE COMMAND...: run COMMAND (in a subshell) holding an exclusive lock on FILE.
# Worktrees share the cache: the second one to need an environment waits for the first to
# build it, instead of deleting it half-built and building its own.
with_lock() {
  local file="$1"
  shift
  mkdir -p "$(dirname "$file")"
  (flock 9 || exit 1; "$@") 9>"$file"
}

# ---------------------------------------------------------------------------------------------
# Debian packages
# ---------------------------------------------------------------------------------------------
# as_root: run a command as root (CI runs as root; a developer may need sudo).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# apt_missing PKG...: prints the packages that are not installed, one a line.
apt_missing() {
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || echo "$pkg"
  done
}

# apt_install PKG...: install the Debian packages that are missing, without prompts.
apt_install() {
  local missing=()
  mapfile -t missing < <(apt_missing "$@")
  [ ${#missing[@]} -eq 0 ] && return 0
  log "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq >/dev/null || die "apt-get update failed"
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

# ---------------------------------------------------------------------------------------------
# Python
# ---------------------------------------------------------------------------------------------
# Each development environment is several GB: keep this many, newest used first...
VENVS_KEPT=2
# ...but never remove one used within this many minutes: several worktrees share the cache,
# and one of them may be running its tests in an environment the others no longer use.
VENV_MIN_IDLE_MINUTES=1440

# ensure_venv: the development venv (runtime + model building + test tools), built once per
# requirements hash, linked at .venv so `source .venv/bin/activate` works as usual.
ensure_venv() {
  cd "$CATSITE_ROOT" || exit 1
  local reqs=(requirements.txt requirements-ml.txt requirements-dev.txt) venv
  venv="$CATSITE_CACHE_DIR/venvs/dev-$(content_hash <("$PYTHON" -c 'import sys; print(sys.version)') "${reqs[@]}")"
  mkdir -p "$(dirname "$venv")"
  if [ ! -f "$venv/.complete" ]; then
    with_lock "$venv.lock" build_venv "$venv" || exit 1
  fi
  # .complete's modification time is the environment's last use (prune_venvs reads it).
  touch "$venv/.complete"
  prune_venvs
  ln -sfn "$venv" "$CATSITE_ROOT/.venv"
  export PATH="$venv/bin:$PATH"
}

build_venv() {
  local venv="$1" pip_log="$1.pip.log"
  [ -f "$venv/.complete" ] && return 0  # built by another worktree while this one waited
  log "Creating the Python environment in $venv (once per requirements change; PyTorch is large, 1-3 minutes)"
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv" || die "could not create a venv with $PYTHON (python3-venv missing?)"
  if ! { "$venv/bin/pip" install --quiet --upgrade pip &&
         "$venv/bin/pip" install --progress-bar off -r requirements-dev.txt; } >"$pip_log" 2>&1; then
    grep -v '^WARNING: Location' "$pip_log" | tail -30 >&2
    die "pip install failed (full log: $pip_log)"
  fi
  touch "$venv/.complete"
}

# prune_venvs: remove the complete environments beyond the VENVS_KEPT most recently used, if
# they have been idle for VENV_MIN_IDLE_MINUTES. Environments still being built (no
# .complete yet) are never touched.
prune_venvs() {
  local line venv kept=0
  while IFS= read -r -d '' line; do
    venv="${line#* }"
    kept=$((kept + 1))
    if [ "$kept" -gt "$VENVS_KEPT" ] &&
       [ -n "$(find "$venv/.complete" -mmin +"$VENV_MIN_IDLE_MINUTES")" ]; then
      log "Removing the environment $venv (unused for over $VENV_MIN_IDLE_MINUTES minutes)"
      rm -rf "$venv" "$venv.pip.log" "$venv.lock"
    fi
  done < <(find "$CATSITE_CACHE_DIR/venvs" -mindepth 2 -maxdepth 2 -path '*/dev-*/.complete' \
             -printf '%T@ %h\0' | sort -z -r -n)
}

# The Python the deploy/ci scripts use for Django commands and helpers: the caller's choice,
# else the repository's .venv (ensure_venv), the active venv, else python3.
app_python() {
  if [[ -n "${CATSITE_PYTHON:-}" ]]; then echo "$CATSITE_PYTHON"
  elif [[ -x "$CATSITE_ROOT/.venv/bin/python" ]]; then echo "$CATSITE_ROOT/.venv/bin/python"
  elif [[ -n "${VIRTUAL_ENV:-}" ]]; then echo "$VIRTUAL_ENV/bin/python"
  else command -v python3
  fi
}

# pip, without the machine's noise about missing local index folders.
pip_quiet() { "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }

# ---------------------------------------------------------------------------------------------
# CI tools and the container engine (deploy/ci)
# ---------------------------------------------------------------------------------------------
# The tools venv is keyed by the tools requirements, so a change there builds a fresh one.
tools_venv() { echo "$TOOLS_DIR/venv-$(content_hash "$CI_DIR/requirements-tools.txt")"; }

# Put the cached tools first on PATH (helm, kubectl, linters).
use_tools() {
  local venv
  venv="$(tools_venv)"
  [[ -x "$TOOLS_DIR/bin/helm" && -x "$venv/bin/checkov" ]] \
    || die "tools missing: run deploy/ci/install-tools.sh first"
  export PATH="$TOOLS_DIR/bin:$venv/bin:$PATH"
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
  local dir="$CATSITE_CACHE_DIR/containers"
  mkdir -p "$dir/storage" "$dir/run"
  sed "s|@CONTAINERS_DIR@|$dir|g" "$CATSITE_ROOT/deploy/podman/storage.conf.in" > "$dir/storage.conf"
  export CONTAINERS_CONF="$CATSITE_ROOT/deploy/podman/containers.conf"
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

# manifest_field DIR FIELD: a field of the package manifest DIR/manifest.json.
manifest_field() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
    "$1/manifest.json" "$2"
}

# The model installed in a MODEL_DIR (the manifest behind the `current` link).
model_version() { manifest_field "$1/current" version; }
model_name() { manifest_field "$1/current" name; }
