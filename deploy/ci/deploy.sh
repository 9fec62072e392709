#!/usr/bin/env bash
# Release: `helm upgrade --install --atomic` of deploy/helm/catsite to one environment, with
# the image pinned by digest. --atomic rolls the release back by itself when the migration Job
# or the rollout fails (probes never get ready within the timeout).
# Usage: deploy.sh ENVIRONMENT IMAGE_REF
#   ENVIRONMENT  staging | production (values-ENVIRONMENT.yaml; namespace catsite-ENVIRONMENT)
#   IMAGE_REF    REGISTRY/REPOSITORY@sha256:... (push-image.sh writes it to var/build/image-ref)
# Env:
#   KUBE_CONTEXT       kubectl context (default: the current one)
#   NAMESPACE          default catsite-ENVIRONMENT
#   RELEASE            default catsite
#   MODEL_VERSION      the model version recorded at build time (the image's label
#                      io.catsite.model.version; push-image.sh writes it to model-version beside
#                      the image ref); default: the content of MODEL_VERSION_FILE. Pods that fetch
#                      their model at start (staging) fetch exactly this one. An alias ("latest",
#                      "champion", "challenger") is refused: it would be resolved at deploy time,
#                      not at build time
#   MODEL_IMAGE_REF    the model-service image (inference.mode: service) as REPOSITORY@sha256:...;
#                      default: the content of MODEL_IMAGE_REF_FILE (default
#                      var/build/model-image-ref, written by push-image.sh) when it exists;
#                      without either the chart's inference.service.image is used
#   HELM_TIMEOUT       default 10m
#   HELM_EXTRA_ARGS    more helm arguments, split on whitespace into an array (no globbing),
#                      e.g. "--set config.LOG_LEVEL=DEBUG". Never secrets: a command line is
#                      seen by every process on the machine and kept in CI logs; secrets live
#                      in the cluster's Secret (secret.existingSecret, e.g. from Key Vault)
#   DRY_RUN=1          `helm install --dry-run=client` instead: renders and checks the release
#                      offline, with no cluster (used by the tests)
set -euo pipefail
# shellcheck source=../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"

main() {
    local environment="${1:?usage: deploy.sh staging|production IMAGE_REF}"
    local image_ref="${2:?usage: deploy.sh staging|production IMAGE_REF}"
    local chart="$CATSITE_ROOT/deploy/helm/catsite"
    local values="$chart/values-$environment.yaml"
    [[ -f "$values" ]] || die "no values file for '$environment' ($values)"
    [[ "$image_ref" =~ ^([^@]+)@(sha256:[0-9a-f]{64})$ ]] \
        || die "IMAGE_REF must be REPOSITORY@sha256:<digest>, got '$image_ref'"
    local repository="${BASH_REMATCH[1]}" digest="${BASH_REMATCH[2]}"
    local namespace="${NAMESPACE:-catsite-$environment}" release="${RELEASE:-catsite}"
    local version_file="${MODEL_VERSION_FILE:-$CATSITE_ROOT/var/build/model-version}"
    local model_version="${MODEL_VERSION:-}"
    if [[ -z "$model_version" && -f "$version_file" ]]; then
        model_version="$(tr -d '[:space:]' < "$version_file")"
    fi
    [[ "$model_version" =~ ^[A-Za-z0-9._-]+$ && ! "$model_version" =~ ^(latest|champion|challenger)$ ]] \
        || die "no model version recorded at build time (got '${model_version}'): set MODEL_VERSION or MODEL_VERSION_FILE to the image's io.catsite.model.version label"

    local model_image_file="${MODEL_IMAGE_REF_FILE:-$CATSITE_ROOT/var/build/model-image-ref}"
    local model_image_ref="${MODEL_IMAGE_REF:-}"
    if [[ -z "$model_image_ref" && -f "$model_image_file" ]]; then
        model_image_ref="$(tr -d '[:space:]' < "$model_image_file")"
    fi

    "$CI_DIR/install-tools.sh" --no-container >/dev/null
    use_tools
    local args=(--namespace "$namespace" -f "$values"
        --set-string "image.repository=$repository" --set-string "image.digest=$digest"
        --set-string "model.fetchAtStart.version=$model_version")
    if [[ -n "$model_image_ref" ]]; then
        [[ "$model_image_ref" =~ ^([^@]+)@(sha256:[0-9a-f]{64})$ ]] \
            || die "MODEL_IMAGE_REF must be REPOSITORY@sha256:<digest>, got '$model_image_ref'"
        args+=(--set-string "inference.service.image.repository=${BASH_REMATCH[1]}"
               --set-string "inference.service.image.digest=${BASH_REMATCH[2]}")
    fi
    [[ -n "${KUBE_CONTEXT:-}" ]] && args+=(--kube-context "$KUBE_CONTEXT")
    local extra=()
    read -r -a extra <<<"${HELM_EXTRA_ARGS:-}"
    args+=("${extra[@]}")

    if [[ "${DRY_RUN:-0}" == 1 ]]; then
        log "dry run: $release to $namespace with $image_ref"
        helm install "$release" "$chart" "${args[@]}" --dry-run=client
        return
    fi
    log "releasing $image_ref to $environment ($namespace)"
    helm upgrade --install "$release" "$chart" "${args[@]}" --create-namespace \
        --atomic --wait --timeout "${HELM_TIMEOUT:-10m}" --history-max 10
    helm status "$release" --namespace "$namespace"
}

main "$@"
