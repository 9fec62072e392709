#!/usr/bin/env bash
# Build both images from the Dockerfile's role targets: `web` (the site, no PyTorch or KServe)
# and `model` (serve_model, with KServe); docker when a daemon answers, else rootful podman
# with the project's settings (deploy/podman/) and a locally made base image.
# Needs the model staged in MODEL_SRC (pipeline.sh fetches it) and builds the wheelhouse itself.
# Env:
#   IMAGE          tag of the web image (default catsite:ci)
#   MODEL_IMAGE    tag of the model image (default catsite-model:ci)
#   MODEL_SRC      model directory inside the repo (default var/build/model)
#   BASE_IMAGE     FROM image (default: python:3.11-slim-bookworm with docker, the local
#                  localhost/debian-python:bookworm with podman, since no registry is reachable)
#   APP_REVISION   source revision label (default: git rev-parse HEAD)
# Labels name the model's version (resolved from its manifest) and what the build asked the
# store for (${MODEL_SRC}.ref, written by fetch-model.sh: champion, latest or a version).
# Writes the images' IDs to var/build/image-id and var/build/model-image-id.
set -euo pipefail
# shellcheck source=../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"

IMAGE="${IMAGE:-catsite:ci}"
MODEL_IMAGE="${MODEL_IMAGE:-catsite-model:ci}"
MODEL_SRC="${MODEL_SRC:-var/build/model}"
BUILD_DIR="$CATSITE_ROOT/var/build"

# The wheelhouse for the base image's Python, inside the build context.
stage_wheelhouse() {
    local wheelhouse
    wheelhouse="$("$CI_DIR/build-wheelhouse.sh" "$1")"
    rm -rf "$BUILD_DIR/wheelhouse"
    mkdir -p "$BUILD_DIR"
    # Hard links when the cache is on the same file system: no copy of 75 MB of wheels.
    cp -al "$wheelhouse" "$BUILD_DIR/wheelhouse" 2>/dev/null || cp -a "$wheelhouse" "$BUILD_DIR/wheelhouse"
}

main() {
    cd "$CATSITE_ROOT"
    [[ -f "$MODEL_SRC/current/manifest.json" ]] \
        || die "no model in $MODEL_SRC (expected $MODEL_SRC/current/manifest.json): run pipeline.sh or manage.py fetch_model --dest $MODEL_SRC"
    local engine_name base revision
    engine_name="$(container_engine)"
    if [[ "$engine_name" == podman ]]; then
        base="${BASE_IMAGE:-localhost/debian-python:bookworm}"
        [[ "$base" == localhost/* ]] && BASE_IMAGE_TAG="$base" "$CI_DIR/build-base-image.sh"
    else
        base="${BASE_IMAGE:-python:3.11-slim-bookworm}"
    fi
    stage_wheelhouse "$base"
    revision="${APP_REVISION:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}"
    local args=(build --network host -f Dockerfile
        --build-arg "BASE_IMAGE=$base"
        --build-arg "MODEL_SRC=$MODEL_SRC"
        --build-arg "WHEELHOUSE=var/build/wheelhouse"
        --build-arg "APP_VERSION=$(python3 -c 'import catsite; print(catsite.__version__)')"
        --build-arg "APP_REVISION=$revision"
        --build-arg "MODEL_NAME=$(model_name "$MODEL_SRC")"
        --build-arg "MODEL_VERSION=$(model_version "$MODEL_SRC")"
        --build-arg "MODEL_REF=$(cat "${MODEL_SRC%/}.ref" 2>/dev/null || echo unknown)"
        --build-arg "BUILD_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)")
    log "from $base, revision $revision"
    # Docker-format images keep the HEALTHCHECK (OCI images have no such field).
    [[ "$engine_name" == podman ]] && args+=(--format docker --layers)
    build_target web "$IMAGE" image-id "${args[@]}"
    build_target model "$MODEL_IMAGE" model-image-id "${args[@]}"
    # Each build leaves the previous image and its build stage untagged: drop those more than
    # an hour old, so the engine's storage stays bounded while recent layers keep the cache warm.
    engine image prune -f --filter until=1h >/dev/null || true
}

# build_target TARGET TAG ID_FILE BUILD-ARGS...: one role's image; its ID in var/build/ID_FILE.
build_target() {
    local target="$1" tag="$2" id_file="$3" bytes
    shift 3
    log "building $tag (target $target) with $(container_engine) (model $(model_version "$MODEL_SRC"))"
    engine "$@" --target "$target" -t "$tag" .
    engine image inspect --format '{{.Id}}' "$tag" > "$BUILD_DIR/$id_file"
    bytes="$(engine image inspect --format '{{.Size}}' "$tag")"
    log "built $tag: $(( bytes / 1000000 )) MB ($bytes bytes)"
}

main "$@"
