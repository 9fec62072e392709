#!/usr/bin/env bash
# Step 1 of the pipeline: put the model the image will carry into MODEL_SRC (default
# var/build/model, a MODEL_DIR layout: current -> versions/<v>), with `manage.py fetch_model`.
#   - MODEL_STORE set (Azure "azure" with its AZURE_* credentials, or a directory): fetch
#     MODEL_VERSION (default latest) from it, as a release would.
#   - MODEL_STORE unset (a laptop, CI here): build the package (`build_model --cached`, reused
#     while its inputs are unchanged), publish it to a local store in the cache, and fetch it
#     from there, so the same fetch/verify path runs either way.
# Prints the installed version on stdout.
set -euo pipefail
# shellcheck source=../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"

MODEL_SRC="${MODEL_SRC:-var/build/model}"

# Host-side management commands need settings, not the site's secrets.
manage() {
    DJANGO_SECRET_KEY="${DJANGO_SECRET_KEY:-ci-pipeline-not-a-secret}" \
        "$(app_python)" "$CATSITE_ROOT/manage.py" "$@"
}

publish_local_model() {
    local package name version published
    package="$(manage build_model --cached)"
    name="$(manifest_field "$package" name)"
    version="$(manifest_field "$package" version)"
    export MODEL_STORE="$CATSITE_CACHE_DIR/model-store"
    published="$MODEL_STORE/${MODEL_STORE_PREFIX:+$MODEL_STORE_PREFIX/}$name/$version/manifest.json"
    if cmp -s "$package/manifest.json" "$published"; then
        log "model $name $version already published to the local store $MODEL_STORE"
    else
        log "publishing the built model $name $version to the local store $MODEL_STORE"
        # --force: this store only mirrors the local build, which is rebuilt under the same
        # version when the build code changes. Real stores keep versions immutable.
        manage publish_model "$package" --force --verbosity 1 >&2
    fi
    MODEL_VERSION="${MODEL_VERSION:-$version}"
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
    log "fetch_model --version ${MODEL_VERSION:-latest} from ${MODEL_STORE} into $MODEL_SRC"
    # --keep 0: the image carries the current version only.
    manage fetch_model --version "${MODEL_VERSION:-latest}" --dest "$MODEL_SRC" --keep 0 >&2
    model_version "$MODEL_SRC"
}

main "$@"
