#!/usr/bin/env bash
# The container pipeline, the same on a laptop, in .ci/run and in the hosted pipelines:
#   1. fetch the model (fetch-model.sh: champion from MODEL_STORE, or built and published locally)
#   2. evaluate it      (evaluate-model.sh: metrics printed and kept in var/build/evaluation/)
#   3. build the images (build-image.sh: the Dockerfile's `web` and `model` targets; docker, or
#      podman with a local base image)
#   4-6. start them, wait for readiness, smoke and integration tests: the web image alone, then
#      the model image with the web image as its client (smoke-test.sh)
#   7. play the Helm chart's pods with those images (play-chart.sh: podman kube play; podman only)
#   8. push the web and model images and record their digests (push-image.sh: a no-op without REGISTRY)
# Prints how long each step took. Env is passed through to the steps (see each script).
# Usage: pipeline.sh [--no-push]
set -euo pipefail
# shellcheck source=../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"

timings=()
step() {
    local name="$1" started=$SECONDS
    shift
    log "==> $name"
    "$@"
    timings+=("$(printf '%-22s %4d s' "$name" $(( SECONDS - started )))")
}

main() {
    cd "$CATSITE_ROOT"
    export MODEL_SRC="${MODEL_SRC:-var/build/model}" IMAGE="${IMAGE:-catsite:ci}" \
        MODEL_IMAGE="${MODEL_IMAGE:-catsite-model:ci}"
    # With a Docker daemon nothing needs installing; otherwise rootful podman, debootstrap
    # and the rest come from Debian (install-tools.sh, idempotent).
    if ! { command -v docker >/dev/null && docker info >/dev/null 2>&1; }; then
        step "install tools" "$CI_DIR/install-tools.sh"
    fi
    step "fetch model" "$CI_DIR/fetch-model.sh" >/dev/null
    step "evaluate model" "$CI_DIR/evaluate-model.sh"
    step "build images" "$CI_DIR/build-image.sh"
    step "smoke + integration" "$CI_DIR/smoke-test.sh"
    if [[ "$(container_engine)" == podman ]]; then
        step "play chart" "$CI_DIR/play-chart.sh"
    else
        log "==> play chart: not run, \`kube play\` needs podman (the engine here is docker)"
    fi
    if [[ "${1:-}" != --no-push ]]; then
        step "push" "$CI_DIR/push-image.sh"
    fi
    local image
    for image in "$IMAGE" "$MODEL_IMAGE"; do
        log "image $image: model $(model_version "$MODEL_SRC"), $(( $(engine image inspect --format '{{.Size}}' "$image") / 1000000 )) MB"
    done
    log "step timings:"
    printf '    %s\n' "${timings[@]}" >&2
}

main "$@"
