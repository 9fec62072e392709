# Shared by scripts/start, scripts/test and .ci/run. Source it; it defines functions only.
#
# Large installs live outside the clone, under $CATSITE_CACHE_DIR (default ~/.cache/catsite),
# keyed by the hash of what produced them, so a fresh clone (CI) reuses them and a changed
# requirements file gets a fresh environment.

CATSITE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CATSITE_CACHE_DIR="${CATSITE_CACHE_DIR:-$HOME/.cache/catsite}"
export CATSITE_CACHE_DIR
PYTHON="${PYTHON:-python3}"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Hash of files' contents (and the Python version): the key of a cached install.
content_hash() {
  { "$PYTHON" -c 'import sys; print(sys.version)'; cat "$@"; } | sha256sum | cut -c1-16
}

# ensure_venv: the development venv (runtime + model building + test tools), built once per
# requirements hash, linked at .venv so `source .venv/bin/activate` works as usual.
ensure_venv() {
  cd "$CATSITE_ROOT" || exit 1
  local reqs=(requirements.txt requirements-ml.txt requirements-dev.txt)
  local venv="$CATSITE_CACHE_DIR/venvs/dev-$(content_hash "${reqs[@]}")"
  if [ ! -f "$venv/.complete" ]; then
    log "Creating the Python environment in $venv (once per requirements change; PyTorch is large, 1-3 minutes)"
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    "$PYTHON" -m venv "$venv" || die "could not create a venv with $PYTHON (python3-venv missing?)"
    local pip_log="$venv.pip.log"
    if ! { "$venv/bin/pip" install --quiet --upgrade pip &&
           "$venv/bin/pip" install --progress-bar off -r requirements-dev.txt; } >"$pip_log" 2>&1; then
      grep -v '^WARNING: Location' "$pip_log" | tail -30 >&2
      die "pip install failed (full log: $pip_log)"
    fi
    touch "$venv/.complete"
    # Each environment is several GB: keep this one and the previous one, drop older ones.
    ls -dt "$CATSITE_CACHE_DIR"/venvs/dev-*/ 2>/dev/null | tail -n +3 | xargs -r rm -rf
  fi
  ln -sfn "$venv" "$CATSITE_ROOT/.venv"
  VENV="$venv"
  export PATH="$venv/bin:$PATH"
}

# as_root: run a command as root (CI runs as root; a developer may need sudo).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# apt_install PKG...: install Debian packages that are missing, without prompts.
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq >/dev/null || die "apt-get update failed"
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}
