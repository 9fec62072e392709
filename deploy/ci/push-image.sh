#!/usr/bin/env bash
# Step 6 of the pipeline: push the image and record its reference with digest for the release.
# With REGISTRY unset it does nothing and says so (a laptop, CI here): exit 0.
# Env:
#   IMAGE              local image to push (default catsite:ci)
#   REGISTRY           e.g. myregistry.azurecr.io (unset: no push)
#   IMAGE_REPOSITORY   repository in the registry (default catsite)
#   IMAGE_TAG          tag to push (default: the image's revision label, shortened)
#   REGISTRY_USERNAME, REGISTRY_PASSWORD   log in first when both are set (else the engine's
#                      existing login is used, e.g. after `az acr login`)
#   REGISTRY_TLS_VERIFY  false for a plain-HTTP test registry (podman only)
#   IMAGE_REF_FILE     where to write REGISTRY/REPOSITORY@sha256:... (default var/build/image-ref)
set -euo pipefail
# shellcheck source=../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"

IMAGE="${IMAGE:-catsite:ci}"
IMAGE_REF_FILE="${IMAGE_REF_FILE:-$CATSITE_ROOT/var/build/image-ref}"

main() {
    if [[ -z "${REGISTRY:-}" ]]; then
        log "REGISTRY is not set: not pushing $IMAGE (set REGISTRY, and credentials, to push)"
        return 0
    fi
    local engine_name revision repository tag target digest tls=()
    engine_name="$(container_engine)"
    revision="$(engine image inspect --format '{{ index .Config.Labels "org.opencontainers.image.revision" }}' "$IMAGE")"
    repository="$REGISTRY/${IMAGE_REPOSITORY:-catsite}"
    tag="${IMAGE_TAG:-${revision:0:12}}"
    target="$repository:$tag"
    if [[ "$engine_name" == podman && "${REGISTRY_TLS_VERIFY:-true}" == false ]]; then
        tls=(--tls-verify=false)
    fi

    if [[ -n "${REGISTRY_USERNAME:-}" && -n "${REGISTRY_PASSWORD:-}" ]]; then
        log "logging in to $REGISTRY as $REGISTRY_USERNAME"
        printf '%s' "$REGISTRY_PASSWORD" \
            | engine login "${tls[@]}" --username "$REGISTRY_USERNAME" --password-stdin "$REGISTRY" >/dev/null
    fi
    engine tag "$IMAGE" "$target"
    log "pushing $target"
    mkdir -p "$(dirname "$IMAGE_REF_FILE")"
    if [[ "$engine_name" == podman ]]; then
        local digest_file
        digest_file="$(mktemp)"
        engine push "${tls[@]}" --digestfile "$digest_file" "$target"
        digest="$(cat "$digest_file")"
        rm -f "$digest_file"
    else
        engine push "$target"
        # RepoDigests holds repository@sha256:... for each registry the image was pushed to.
        digest="$(engine image inspect --format '{{ range .RepoDigests }}{{ println . }}{{ end }}' "$target" \
            | grep -F "$repository@" | head -1 | cut -d@ -f2)"
    fi
    [[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] || die "no digest for $target (got '$digest')"
    echo "$repository@$digest" > "$IMAGE_REF_FILE"
    log "pushed $target as $repository@$digest (written to $IMAGE_REF_FILE)"
}

main "$@"
