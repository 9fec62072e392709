#!/usr/bin/env bash
# Build the wheelhouse the images install from (`pip install --no-index --find-links`), so the
# image build itself needs no network: the wheels of the image roles' locks, requirements/web.txt
# and requirements/model.txt (model is web plus KServe, at the same versions). The wheels are
# resolved by the base image's own Python:
# environment markers compare full versions (redis needs async-timeout on Python < 3.11.3, and
# Debian bookworm has 3.11.2), which a host-side `pip download --python-version` gets wrong.
# pip runs in a throwaway container on the host network, trusting the host's CA bundle.
# Cached under CATSITE_CACHE_DIR/wheelhouse/<hash of the locks and the base image's Python>;
# prints the wheelhouse path on stdout.
# Usage: build-wheelhouse.sh BASE_IMAGE
set -euo pipefail
# shellcheck source=../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"

LOCKS=("$CATSITE_ROOT/requirements/web.txt" "$CATSITE_ROOT/requirements/model.txt")
CA_BUNDLE="${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}"

main() {
    local base="${1:?usage: build-wheelhouse.sh BASE_IMAGE}" python key dir
    python="$(engine run --rm --network host "$base" python3 -c \
        'import platform, sysconfig; print(platform.python_version(), sysconfig.get_platform())')"
    key="$(content_hash "${LOCKS[@]}" <(echo "$python"))"
    dir="$CATSITE_CACHE_DIR/wheelhouse/$key"
    if [[ -f "$dir/.complete" ]]; then log "wheelhouse present: $dir"; echo "$dir"; return; fi

    log "building wheels for Python $python in $base into $dir"
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    local mounts=(-v "$dir.tmp:/wheels" -v "$CATSITE_ROOT/requirements:/requirements:ro")
    if [[ -f "$CA_BUNDLE" ]]; then
        mounts+=(-v "$CA_BUNDLE:/host-ca.crt:ro" -e PIP_CERT=/host-ca.crt)
    fi
    # `pip wheel` takes published wheels as they are (their hashes are the locks').
    engine run --rm --network host "${mounts[@]}" -e PIP_DISABLE_PIP_VERSION_CHECK=1 \
        -e PIP_PROGRESS_BAR=off "$base" sh -c \
        'python3 -m venv /tmp/venv && /tmp/venv/bin/pip wheel -q --require-hashes --wheel-dir /wheels -r /requirements/web.txt -r /requirements/model.txt' \
        || die "pip wheel failed in $base"
    touch "$dir.tmp/.complete"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
    log "wheelhouse ready: $(find "$dir" -name '*.whl' | wc -l) wheels, $(du -sh "$dir" | cut -f1)"
    echo "$dir"
}

main "$@"
