#!/usr/bin/env bash
# Validate the Helm chart and the Dockerfile offline:
#   helm lint --strict                       for each values file
#   helm template                            for each Kubernetes version x values file
#   kubernetes-validate --strict             on each render; any WARN (e.g. an apiVersion with no
#                                            schema) counts as a failure
#   yamllint (yamllint-rendered.yml)         on each render: duplicate keys
#   checkov --framework kubernetes           on each render: no failed check; skips only through
#                                            checkov.io/skipN annotations in the chart, each with
#                                            its reason
#   check_monitoring.py                      first, on each render: the custom resources
#                                            (ServiceMonitor, PrometheusRule, Rollout,
#                                            AnalysisTemplate), which kubernetes-validate has no
#                                            schema for, against deploy/ci/schemas/; rules and
#                                            analysis queries through `promtool check rules`;
#                                            Grafana dashboards' JSON; the other objects (and a
#                                            Rollout's pods, as a Deployment) go on to the checks
#                                            above
#   hadolint                                 on the Dockerfile
# Renders go to $VALIDATE_OUT when set (kept), else to a temp dir kept only on failure.
# Usage: validate-chart.sh                      validate everything
#        validate-chart.sh --check FILE KUBEVER check one rendered manifest (used by the tests)
set -euo pipefail
# shellcheck source=../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"

CHART="$CATSITE_ROOT/deploy/helm/catsite"
read -r -a KUBE_VERSIONS <<<"${KUBE_VERSIONS:-1.30.0 1.34.0}"
# Each render: "NAME VALUES-FILE [--set OPTIONS]" ("-" for the chart's defaults): the model
# service (inference.mode: service) with the model fetched at pod start, the monitoring, and
# the canary delivery (rollout.enabled: an Argo Rollouts Rollout instead of the Deployment).
RENDERS=("values -" "values-staging values-staging.yaml" "values-production values-production.yaml"
         "service-mode values-production.yaml inference.mode=service,model.fetchAtStart.enabled=true"
         "monitoring values-production.yaml metrics.serviceMonitor.enabled=true,metrics.prometheusRule.enabled=true,metrics.grafanaDashboard.enabled=true,model.challenger.enabled=true,ingress.enabled=true"
         "rollout values-production.yaml rollout.enabled=true,metrics.serviceMonitor.enabled=true,metrics.prometheusRule.enabled=true,model.challenger.enabled=true")
# Releases deploy by digest (push-image.sh records it); render the same way.
RELEASE_DIGEST="sha256:$(printf '%064d' 0)"
MODEL_RELEASE_DIGEST="sha256:$(printf '%064d' 1)"  # the model image's (inference.mode=service)

# Checks on one rendered manifest; prints what failed, returns non-zero on any failure.
check_manifest() {
    local file="$1" kube_version="$2" out failed=0
    if ! out="$(kubernetes-validate --strict -k "$kube_version" "$file" 2>&1)" \
            || grep -q "WARN" <<<"$out"; then
        log "kubernetes-validate $kube_version failed on $file:"; echo "$out" >&2; failed=1
    fi
    if ! yamllint -s -c "$CI_DIR/yamllint-rendered.yml" "$file" >&2; then
        log "yamllint failed on $file"; failed=1
    fi
    if ! out="$(checkov -f "$file" --framework kubernetes --skip-download --compact --quiet 2>&1)"; then
        log "checkov failed on $file:"; echo "$out" >&2; failed=1
    fi
    # A skip without its reason is not a documented skip.
    if grep -E 'checkov\.io/skip[0-9]+:' "$file" | grep -vqE ':\s*"?CKV2?_[A-Z0-9_]+=\S'; then
        log "a checkov skip in $file has no reason"; failed=1
    fi
    return "$failed"
}

# helm options for one entry of RENDERS, one a line: -f FILE and --set OPTIONS.
render_options() {
    local name values sets
    read -r name values sets <<<"$1"
    [[ "$values" != - ]] && printf '%s\n' -f "$CHART/$values"
    [[ -n "$sets" ]] && printf '%s\n' --set "$sets"
    return 0
}

render() {
    local options=() kube_version="$2" dest="$3"
    mapfile -t options < <(render_options "$1")
    helm template catsite "$CHART" --namespace catsite --kube-version "$kube_version" \
        --set "image.digest=$RELEASE_DIGEST" \
        --set "inference.service.image.digest=$MODEL_RELEASE_DIGEST" "${options[@]}" > "$dest"
}

main() {
    "$CI_DIR/install-tools.sh"
    use_tools
    if [[ "${1:-}" == --check ]]; then check_manifest "$2" "$3"; return; fi

    local out="${VALIDATE_OUT:-$(mktemp -d)}" failed=0 entry options=() name kube_version dest
    mkdir -p "$out"
    for entry in "${RENDERS[@]}"; do
        mapfile -t options < <(render_options "$entry")
        name="${entry%% *}"
        log "helm lint --strict $name (${options[*]:-defaults})"
        helm lint --strict "$CHART" "${options[@]}" >/dev/null \
            || { helm lint --strict "$CHART" "${options[@]}" >&2; failed=1; }
        for kube_version in "${KUBE_VERSIONS[@]}"; do
            dest="$out/$name-k$kube_version.yaml"
            render "$entry" "$kube_version" "$dest" || { failed=1; continue; }
            log "checking $(basename "$dest") ($(grep -c '^kind:' "$dest") objects)"
            # checkov reads only .yaml files: the checked objects keep the extension.
            python "$CI_DIR/check_monitoring.py" "$dest" "${dest%.yaml}-checked.yaml" || failed=1
            check_manifest "${dest%.yaml}-checked.yaml" "$kube_version" || failed=1
        done
    done
    log "checkov skips in the chart (each with its reason):"
    grep -hoE 'checkov\.io/skip[0-9]+: .*' "$out"/*.yaml | sort -u | sed 's/^/    /' >&2

    if [[ -f "$CATSITE_ROOT/Dockerfile" ]]; then
        log "hadolint Dockerfile"
        hadolint --config "$CI_DIR/hadolint.yaml" "$CATSITE_ROOT/Dockerfile" || failed=1
    else
        log "ERROR: no Dockerfile"; failed=1
    fi
    (( failed == 0 )) || die "chart or Dockerfile validation failed (renders kept in $out)"
    log "chart and Dockerfile valid"
    # Renders of a passing run are only kept when asked for (VALIDATE_OUT).
    [[ -n "${VALIDATE_OUT:-}" ]] || rm -rf "$out"
}

main "$@"
