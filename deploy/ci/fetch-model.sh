#!/usr/bin/env bash
# Step 1 of the pipeline: put the model the image will carry into MODEL_SRC (default
# var/build/model, a MODEL_DIR layout: current -> versions/<v>), with `manage.py fetch_model`.
#   - MODEL_STORE set ("azure" with its AZURE_* credentials, "mlflow" with MLFLOW_TRACKING_URI,
#     or a directory): fetch MODEL_VERSION from it, as a release would. MODEL_VERSION is an
#     alias or a version; default `champion`, the model that passed the gate (publish_model
#     --alias champion --evaluate). There is no silent fallback to `latest`: a store without a
#     champion fails the build with fetch_model's one line; pin MODEL_VERSION=latest (or a
#     version) for a build that should not wait for a champion.
#   - MODEL_STORE unset (a laptop, CI here): build the package (`build_model --cached`, reused
#     while its inputs are unchanged), publish it to a local store in the cache as champion
#     (forced: the local store mirrors the local build, there is nothing to gate it against),
#     and fetch champion from there, so the same fetch/verify path runs either way.
# Writes what was asked for and what it resolved to in ${MODEL_SRC}.ref (the image's labels).
# Prints the installed version on stdout.
set -euo pipefail
# shellcheck source=../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"

MODEL_SRC="${MODEL_SRC:-var/build/model}"

publish_local_model() {
    local package version
    package="$(manage build_model --cached)"
    export MODEL_STORE="$CATSITE_CACHE_DIR/model-store"
    version="$(publish_to_local_store "$package")"
    # A no-op when champion already points at it; else a forced move, recorded in its history.
    manage publish_model --promote "$version" --alias champion \
        --name "$(manifest_field "$package" name)" --force --verbosity 1 >&2
}

main() {
    cd "$CATSITE_ROOT"
    if [[ -z "${CATSITE_PYTHON:-}" && ! -x .venv/bin/python ]]; then
        log "no .venv: creating the project's Python environment (ensure_venv)"
        ensure_venv >&2
    fi
    if [[ -z "${MODEL_STORE:-}" ]]; then
        log "MODEL_STORE is not set: building the model and using a local store"
        publish_local_model
    fi
    local requested="${MODEL_VERSION:-champion}" resolved
    log "fetch_model --version $requested from ${MODEL_STORE} into $MODEL_SRC"
    # --keep 0: the image carries the current version only.
    manage fetch_model --version "$requested" --dest "$MODEL_SRC" --keep 0 >&2
    resolved="$(model_version "$MODEL_SRC")"
    log "model $requested resolved to version $resolved"
    printf '%s\n' "$requested" > "${MODEL_SRC%/}.ref"
    echo "$resolved"
}

main "$@"
