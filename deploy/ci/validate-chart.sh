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
#   check_monitoring.py                      the opt-in monitoring objects (ServiceMonitor,
#                                            PrometheusRule: schemas in deploy/ci/schemas/;
#                                            the Grafana dashboard's JSON), rendered on top of
#                                            the production values with the shadow challenger;
#                                            the rest as above
#   hadolint                                 on the Dockerfile
# Renders go to $VALIDATE_OUT when set (kept), else to a temp dir kept only on failure.
# Usage: validate-chart.sh                      validate everything
#        validate-chart.sh --check FILE KUBEVER check one rendered manifest (used by the tests)
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

CHART="$REPO_ROOT/deploy/helm/catsite"
read -r -a KUBE_VERSIONS <<<"${KUBE_VERSIONS:-1.30.0 1.34.0}"
VALUES_FILES=("" values-staging.yaml values-production.yaml)
# Releases deploy by digest (push-image.sh records it); render the same way.
RELEASE_DIGEST="sha256:$(printf '%064d' 0)"
# Every opt-in monitoring object, and the shadow challenger's init container, for the
# "monitoring" render.
MONITORING_ARGS=(--set metrics.serviceMonitor.enabled=true --set metrics.prometheusRule.enabled=true
                 --set metrics.grafanaDashboard.enabled=true --set model.challenger.enabled=true)

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

render() {
    local values="$1" kube_version="$2" dest="$3"
    local args=(template catsite "$CHART" --namespace catsite --kube-version "$kube_version"
                --set "image.digest=$RELEASE_DIGEST" "${@:4}")
    [[ -n "$values" ]] && args+=(-f "$CHART/$values")
    helm "${args[@]}" > "$dest"
}

main() {
    "$CI_DIR/install-tools.sh"
    use_tools
    if [[ "${1:-}" == --check ]]; then check_manifest "$2" "$3"; return; fi

    local out="${VALIDATE_OUT:-$(mktemp -d)}" failed=0 values kube_version dest
    mkdir -p "$out"
    for values in "${VALUES_FILES[@]}"; do
        log "helm lint --strict ${values:-values.yaml}"
        helm lint --strict "$CHART" ${values:+-f "$CHART/$values"} >/dev/null \
            || { helm lint --strict "$CHART" ${values:+-f "$CHART/$values"} >&2; failed=1; }
        for kube_version in "${KUBE_VERSIONS[@]}"; do
            dest="$out/$(basename "${values:-values.yaml}" .yaml)-k$kube_version.yaml"
            render "$values" "$kube_version" "$dest" || { failed=1; continue; }
            log "checking $(basename "$dest") ($(grep -c '^kind:' "$dest") objects)"
            check_manifest "$dest" "$kube_version" || failed=1
        done
    done
    for kube_version in "${KUBE_VERSIONS[@]}"; do
        dest="$out/monitoring-k$kube_version.yaml"
        render values-production.yaml "$kube_version" "$dest" "${MONITORING_ARGS[@]}" \
            || { failed=1; continue; }
        log "checking $(basename "$dest") (monitoring objects on)"
        python "$CI_DIR/check_monitoring.py" "$dest" "${dest%.yaml}-others.yaml" || failed=1
        check_manifest "${dest%.yaml}-others.yaml" "$kube_version" || failed=1
    done
    log "checkov skips in the chart (each with its reason):"
    grep -hoE 'checkov\.io/skip[0-9]+: .*' "$out"/*.yaml | sort -u | sed 's/^/    /' >&2

    if [[ -f "$REPO_ROOT/Dockerfile" ]]; then
        log "hadolint Dockerfile"
        hadolint --config "$CI_DIR/hadolint.yaml" "$REPO_ROOT/Dockerfile" || failed=1
    else
        log "ERROR: no Dockerfile"; failed=1
    fi
    (( failed == 0 )) || die "chart or Dockerfile validation failed (renders kept in $out)"
    log "chart and Dockerfile valid"
    # Renders of a passing run are only kept when asked for (VALIDATE_OUT).
    [[ -n "${VALIDATE_OUT:-}" ]] || rm -rf "$out"
}

main "$@"
