# shellcheck shell=bash
# The one shell library of scripts/ and deploy/ci/. Source it; it defines variables and
# functions only (each script sets its own shell options).
#
# Large installs live outside the clone, under $CATSITE_CACHE_DIR (default ~/.cache/catsite),
# keyed by the hash of what produced them, so a fresh clone (CI) reuses them and a changed
# requirements file gets a fresh one:
#   venvs/<role>-<hash>/   one venv per role (ensure_venv ROLE), keyed by requirements/<role>.txt
#   node/                  Azurite and axe-core (scripts/install-*.sh)
#   tools/bin/             helm, kubectl (extracted from a PyPI wheel)
#   tools/venv-<hash>/     linters and validators, keyed by deploy/ci/requirements-tools.txt
#   tools/uv-<version>/    uv, which compiles the locks (scripts/lock)
#   containers/            podman storage and the generated storage.conf
#   base-image/            the debootstrap rootfs tarball for localhost/debian-python:bookworm
#   wheelhouse/<role>-<hash>/  wheels for an image, keyed by requirements/<role>.txt

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
# Python: one environment per role
# ---------------------------------------------------------------------------------------------
# The roles, each an optional group of pyproject.toml compiled by scripts/lock into a hashed
# lock, requirements/<role>.txt:
#   web    the site (./scripts/start, the web image): no PyTorch, KServe or test tools
#   model  web + KServe: manage.py serve_model (the model image)
#   build  web + PyTorch: manage.py build_model and train_model
#   dev    everything, plus the test tools (./scripts/test, ./scripts/lint)
ROLES=(web model build dev)
role_lock() { echo "$CATSITE_ROOT/requirements/$1.txt"; }

# Each environment is up to several GB: keep this many per role, newest used first...
VENVS_KEPT=2
# ...but never remove one used within this many minutes: several worktrees share the cache,
# and one of them may be running its tests in an environment the others no longer use.
VENV_MIN_IDLE_MINUTES=1440

# role_venv ROLE: where the role's environment lives, keyed by the Python and the role's lock.
role_venv() {
  local lock
  lock="$(role_lock "$1")"
  [ -f "$lock" ] || die "no role '$1' (roles: ${ROLES[*]}; locks in requirements/)"
  echo "$CATSITE_CACHE_DIR/venvs/$1-$(content_hash <("$PYTHON" -c 'import sys; print(sys.version)') "$lock")"
}

# ensure_venv [ROLE]: the role's venv (default dev), built once per lock hash and put first on
# PATH. The dev one is linked at .venv (`source .venv/bin/activate`), the others at
# .venv-<role>.
ensure_venv() {
  local role="${1:-dev}" venv
  cd "$CATSITE_ROOT" || exit 1
  venv="$(role_venv "$role")" || exit 1
  mkdir -p "$(dirname "$venv")"
  if [ ! -f "$venv/.complete" ]; then
    with_lock "$venv.lock" build_venv "$venv" "$(role_lock "$role")" || exit 1
  fi
  # .complete's modification time is the environment's last use (prune_venvs reads it).
  touch "$venv/.complete"
  prune_venvs
  if [ "$role" = dev ]; then ln -sfn "$venv" "$CATSITE_ROOT/.venv"
  else ln -sfn "$venv" "$CATSITE_ROOT/.venv-$role"
  fi
  export PATH="$venv/bin:$PATH"
}

# build_venv VENV LOCK: install a lock with plain pip (--require-hashes: the lock carries every
# hash). Shows a line per phase and a package count; pip's whole output, warnings included,
# goes to VENV.pip.log, and its errors are shown when it fails.
build_venv() {
  local venv="$1" lock="$2" pip_log="$1.pip.log" started=$SECONDS total
  [ -f "$venv/.complete" ] && return 0  # built by another worktree while this one waited
  log "Creating the Python environment $venv from $lock (once per change of the lock)"
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv" >"$pip_log" 2>&1 \
    || die "could not create a venv with $PYTHON (python3-venv missing?): see $pip_log"
  log "  upgrading pip"
  "$venv/bin/pip" install --upgrade pip >>"$pip_log" 2>&1 || pip_failed "$pip_log"
  total="$(lock_package_count "$venv/bin/python" "$lock")"
  log "  downloading and installing $total packages (log: $pip_log)"
  if grep -q '^torch==' "$lock"; then
    log "  PyTorch with its CUDA libraries is about 5 GB: unpacking it takes minutes"
  fi
  # --progress-bar off: the log stays readable; the count below is the progress.
  # The subshell exits with pip's status, whether or not the caller set pipefail.
  if ! ("$venv/bin/pip" install --progress-bar off --require-hashes -r "$lock" 2>&1 \
          | tee -a "$pip_log" | pip_progress "$total"; exit "${PIPESTATUS[0]}"); then
    pip_failed "$pip_log"
  fi
  log "  done in $(( SECONDS - started )) s: $(du -sh "$venv" | cut -f1)$(pip_warnings "$pip_log")"
  touch "$venv/.complete"
}

# lock_package_count PYTHON LOCK: how many of the lock's packages this Python installs (a lock
# compiled with --universal also pins packages for other platforms, behind markers).
lock_package_count() {
  "$1" - "$2" <<'PY'
import re, sys
from pip._vendor.packaging.requirements import Requirement

wanted = set()
for line in re.findall(r"^[A-Za-z0-9][^\\\n]*", open(sys.argv[1]).read(), re.M):
    requirement = Requirement(line.strip())
    if requirement.marker is None or requirement.marker.evaluate():
        wanted.add(requirement.name)
print(len(wanted))
PY
}

# pip_progress TOTAL: reads pip's output; one line a phase, and the count of packages collected
# (in place on a terminal, every tenth package otherwise).
pip_progress() {
  local total="$1" line count=0 step=$(( $1 / 10 > 0 ? $1 / 10 : 1 ))
  while IFS= read -r line; do
    case "$line" in
      Collecting\ * | Processing\ *)  # Processing: a file on this machine's disk
        count=$((count + 1))
        if [ -t 2 ]; then printf '\r    %d/%d %-60.60s' "$count" "$total" "${line#* }" >&2
        elif [ $((count % step)) -eq 0 ] || [ "$count" -eq "$total" ]; then
          printf '    %d/%d collected\n' "$count" "$total" >&2
        fi ;;
      Installing\ collected\ packages:*)
        [ -t 2 ] && printf '\n' >&2
        line="${line#*:}"
        log "  unpacking $(( $(tr -cd , <<<"$line" | wc -c) + 1 )) packages into the environment" ;;
    esac
  done
}

# pip_failed LOG: pip's error (from its first ERROR line on; else the log's end), then die.
pip_failed() {
  if grep -q '^ERROR' "$1"; then sed -n '/^ERROR/,$p' "$1" | grep -v '^WARNING' | head -40 >&2
  else tail -20 "$1" >&2
  fi
  die "pip install failed (full log: $1)"
}

# pip_warnings LOG: "; N warnings in LOG" when pip printed any (they stay in the log).
pip_warnings() {
  local n
  n="$(grep -c '^WARNING' "$1" || true)"
  [ "$n" -gt 0 ] && printf '; %d pip warnings in %s' "$n" "$1"
  return 0
}

# prune_venvs: per role, remove the complete environments beyond the VENVS_KEPT most recently
# used, if they have been idle for VENV_MIN_IDLE_MINUTES. Environments still being built (no
# .complete yet) are never touched.
prune_venvs() {
  local role line venv kept
  for role in "${ROLES[@]}"; do
    kept=0
    while IFS= read -r -d '' line; do
      venv="${line#* }"
      kept=$((kept + 1))
      if [ "$kept" -gt "$VENVS_KEPT" ] &&
         [ -n "$(find "$venv/.complete" -mmin +"$VENV_MIN_IDLE_MINUTES")" ]; then
        log "Removing the environment $venv (unused for over $VENV_MIN_IDLE_MINUTES minutes)"
        rm -rf "$venv" "$venv.pip.log" "$venv.lock"
      fi
    done < <(find "$CATSITE_CACHE_DIR/venvs" -mindepth 2 -maxdepth 2 \
               -path "*/$role-*/.complete" -printf '%T@ %h\0' 2>/dev/null | sort -z -r -n)
  done
}

# The uv that compiles the locks (scripts/lock), in a small venv of its own in the cache.
UV_VERSION=0.13.8
ensure_uv() {
  local venv="$TOOLS_DIR/uv-$UV_VERSION"
  if [ ! -x "$venv/bin/uv" ]; then
    log "Installing uv $UV_VERSION (compiles the locks) into $venv"
    rm -rf "$venv"
    "$PYTHON" -m venv "$venv" && pip_quiet "$venv/bin/pip" install -q "uv==$UV_VERSION" \
      || die "could not install uv $UV_VERSION from PyPI"
  fi
  echo "$venv/bin/uv"
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

# manage.py on the host (fetch_model, publish_model, evaluate_model in deploy/ci): needs
# settings, not the site's secrets.
manage() {
  DJANGO_SECRET_KEY="${DJANGO_SECRET_KEY:-ci-pipeline-not-a-secret}" \
    "$(app_python)" "$CATSITE_ROOT/manage.py" "$@"
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

# The base model package, committed and signed (model.onnx, manifest.json, model.sig): the first
# model ./scripts/start installs, without PyTorch. tests/test_base_model.py rebuilds it with
# build_model and compares it byte for byte. BASE_MODEL_KEY is the public key it is signed with.
# shellcheck disable=SC2034 # read by scripts/start and tests/test_base_model.py
BASE_MODEL_DIR="$CATSITE_ROOT/deploy/models/base"
# shellcheck disable=SC2034
BASE_MODEL_KEY="$CATSITE_ROOT/deploy/keys/catsite-base-model-2026-12.pub"

# publish_to_local_store PACKAGE: publish PACKAGE to the folder MODEL_STORE names, unless that
# very manifest is published there already; prints the version.
publish_to_local_store() {
  local package="$1" name version published
  name="$(manifest_field "$package" name)"
  version="$(manifest_field "$package" version)"
  published="$MODEL_STORE/${MODEL_STORE_PREFIX:+$MODEL_STORE_PREFIX/}$name/$version/manifest.json"
  if cmp -s "$package/manifest.json" "$published"; then
    log "model $name $version already published to the local store $MODEL_STORE"
  else
    log "publishing the model $name $version to the local store $MODEL_STORE"
    # --force: a local store mirrors a local package, which is rebuilt under the same version
    # when the build code changes. Real stores keep versions immutable.
    manage publish_model "$package" --force --verbosity 1 >&2
  fi
  echo "$version"
}

# manifest_field DIR FIELD: a field of the package manifest DIR/manifest.json.
manifest_field() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
    "$1/manifest.json" "$2"
}

# The model installed in a MODEL_DIR (the manifest behind the `current` link).
model_version() { manifest_field "$1/current" version; }
model_name() { manifest_field "$1/current" name; }
