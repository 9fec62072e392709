#!/usr/bin/env bash
# Step 6 of the pipeline: push the images and record their references with digest for the
# release. With REGISTRY unset it does nothing and says so (a laptop, CI here): exit 0.
# Env:
#   IMAGE              local web image to push (default catsite:ci)
#   MODEL_IMAGE        local model-service image to push as well (the Dockerfile's `model` target;
#                      unset: only the web image). It must carry the same model version label
#   REGISTRY           e.g. myregistry.azurecr.io (unset: no push)
#   IMAGE_REPOSITORY   repository of the web image in the registry (default catsite)
#   MODEL_IMAGE_REPOSITORY  repository of the model image (default catsite-model)
#   IMAGE_TAG          tag to push (default: each image's revision label, shortened)
#   REGISTRY_USERNAME, REGISTRY_PASSWORD   log in first when both are set (else the engine's
#                      existing login is used, e.g. after `az acr login`)
#   REGISTRY_TLS_VERIFY  false for a plain-HTTP test registry (podman only)
#   IMAGE_REF_FILE     where to write REGISTRY/REPOSITORY@sha256:... (default var/build/image-ref);
#                      the model image's reference goes beside it in model-image-ref, and the
#                      images' model version (label io.catsite.model.version) in model-version
set -euo pipefail
# shellcheck source=../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"

IMAGE="${IMAGE:-catsite:ci}"
IMAGE_REF_FILE="${IMAGE_REF_FILE:-$CATSITE_ROOT/var/build/image-ref}"

MODEL_VERSION_LABEL='{{ index .Config.Labels "io.catsite.model.version" }}'

# push_image LOCAL REPOSITORY REF_FILE: push LOCAL as REPOSITORY:TAG and write
# REPOSITORY@sha256:... (the digest the registry serves) to REF_FILE.
push_image() {
    local image="$1" repository="$2" ref_file="$3" revision tag target digest
    revision="$(engine image inspect --format '{{ index .Config.Labels "org.opencontainers.image.revision" }}' "$image")"
    tag="${IMAGE_TAG:-${revision:0:12}}"
    target="$repository:$tag"
    engine tag "$image" "$target"
    log "pushing $target"
    mkdir -p "$(dirname "$ref_file")"
    if [[ "$(container_engine)" == podman ]]; then
        local digest_file
        digest_file="$(mktemp)"
        engine push "${TLS_ARGS[@]}" --digestfile "$digest_file" "$target"
        digest="$(cat "$digest_file")"
        rm -f "$digest_file"
    else
        engine push "$target"
        # RepoDigests holds repository@sha256:... for each registry the image was pushed to.
        digest="$(engine image inspect --format '{{ range .RepoDigests }}{{ println . }}{{ end }}' "$target" \
            | grep -F "$repository@" | head -1 | cut -d@ -f2)"
    fi
    [[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] || die "no digest for $target (got '$digest')"
    echo "$repository@$digest" > "$ref_file"
    log "pushed $target as $repository@$digest (written to $ref_file)"
}

main() {
    if [[ -z "${REGISTRY:-}" ]]; then
        log "REGISTRY is not set: not pushing $IMAGE${MODEL_IMAGE:+ or $MODEL_IMAGE} (set REGISTRY, and credentials, to push)"
        return 0
    fi
    local out model_version
    out="$(dirname "$IMAGE_REF_FILE")"
    TLS_ARGS=()
    if [[ "$(container_engine)" == podman && "${REGISTRY_TLS_VERIFY:-true}" == false ]]; then
        TLS_ARGS=(--tls-verify=false)
    fi
    # The model baked into the images, from their label: a release deploys exactly this version
    # (deploy.sh), never "latest" resolved at deploy time. Both images must carry the same one.
    model_version="$(engine image inspect --format "$MODEL_VERSION_LABEL" "$IMAGE")"
    if [[ -n "${MODEL_IMAGE:-}" ]]; then
        local model_image_version
        model_image_version="$(engine image inspect --format "$MODEL_VERSION_LABEL" "$MODEL_IMAGE")" \
            || die "MODEL_IMAGE $MODEL_IMAGE is not a local image: build it (deploy/ci/build-image.sh) or unset MODEL_IMAGE"
        [[ "$model_image_version" == "$model_version" ]] \
            || die "$IMAGE carries model $model_version but $MODEL_IMAGE carries $model_image_version: build both from the same model"
    fi

    if [[ -n "${REGISTRY_USERNAME:-}" && -n "${REGISTRY_PASSWORD:-}" ]]; then
        log "logging in to $REGISTRY as $REGISTRY_USERNAME"
        printf '%s' "$REGISTRY_PASSWORD" \
            | engine login "${TLS_ARGS[@]}" --username "$REGISTRY_USERNAME" --password-stdin "$REGISTRY" >/dev/null
    fi
    push_image "$IMAGE" "$REGISTRY/${IMAGE_REPOSITORY:-catsite}" "$IMAGE_REF_FILE"
    if [[ -n "${MODEL_IMAGE:-}" ]]; then
        push_image "$MODEL_IMAGE" "$REGISTRY/${MODEL_IMAGE_REPOSITORY:-catsite-model}" "$out/model-image-ref"
    fi
    echo "$model_version" > "$out/model-version"
}

main "$@"
