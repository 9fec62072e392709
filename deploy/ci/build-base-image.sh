#!/usr/bin/env bash
# Make the base image localhost/debian-python:bookworm without a registry: debootstrap a minimal
# Debian bookworm with python3 (3.11, the wheelhouse's Python) and python3-venv from the Debian
# mirror apt already uses, then `podman import` it. The rootfs tarball is cached, so later runs
# only re-import it when the engine's storage lost the image.
# Env: BASE_IMAGE_TAG (default localhost/debian-python:bookworm), DEBIAN_MIRROR (default: apt's).
set -euo pipefail
# shellcheck source=../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"

TAG="${BASE_IMAGE_TAG:-localhost/debian-python:bookworm}"
SUITE=bookworm
PACKAGES=python3,python3-venv,ca-certificates
# Bump when the rootfs recipe changes, so the cached tarball is rebuilt.
RECIPE=2
ROOTFS_TAR="$CATSITE_CACHE_DIR/base-image/debian-$SUITE-python3-$(content_hash <(echo "$PACKAGES $RECIPE")).tar"

# The mirror apt is configured with (deb822 or one-line sources), so no other host is needed.
debian_mirror() {
    if [[ -n "${DEBIAN_MIRROR:-}" ]]; then echo "$DEBIAN_MIRROR"; return; fi
    local uri
    uri="$(grep -hoE '^(URIs:|deb) +[^ ]+' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list \
        2>/dev/null | awk '{print $2}' | grep -E '/debian/?$' | head -1 || true)"
    echo "${uri:-http://deb.debian.org/debian}"
}

build_rootfs() {
    [[ $(id -u) == 0 ]] || die "debootstrap needs root"
    rootfs="$(mktemp -d "$CATSITE_CACHE_DIR/base-image/rootfs.XXXXXX")"
    # shellcheck disable=SC2064 # expand now: the path is fixed
    trap "rm -rf '$rootfs'" EXIT
    log "debootstrap $SUITE ($PACKAGES) from $(debian_mirror)"
    debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" "$(debian_mirror)" \
        > "$CATSITE_CACHE_DIR/base-image/debootstrap.log" 2>&1 \
        || { tail -20 "$CATSITE_CACHE_DIR/base-image/debootstrap.log"; die "debootstrap failed"; }
    # Smaller image: package lists, caches and documentation are not needed at run time.
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
        "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* \
        "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/*
    tar -C "$rootfs" -cf "$ROOTFS_TAR.tmp" . && mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
}

main() {
    mkdir -p "$CATSITE_CACHE_DIR/base-image"
    if engine image inspect "$TAG" >/dev/null 2>&1; then log "$TAG present"; return; fi
    [[ -f "$ROOTFS_TAR" ]] || build_rootfs
    log "importing $TAG"
    engine import --change 'CMD ["/usr/bin/python3"]' "$ROOTFS_TAR" "$TAG" >/dev/null
    engine run --rm --network host "$TAG" python3 -c 'import sys, venv; print("python", sys.version.split()[0])'
}

main "$@"
