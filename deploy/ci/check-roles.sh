#!/usr/bin/env bash
# Each role on its own: the locks match pyproject.toml (scripts/lock --check), and every role's
# environment, installed from its lock alone (ensure_venv ROLE, cached under CATSITE_CACHE_DIR
# by the lock's hash), passes `pip check`: no role leans on a package only another one brings.
# The web role, which ./scripts/start installs, must also hold no PyTorch or CUDA package.
# Usage: deploy/ci/check-roles.sh [ROLE...]   (default: every role)
set -euo pipefail
# shellcheck source=../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"

main() {
    local roles=("$@") role venv found
    (( ${#roles[@]} )) || roles=("${ROLES[@]}")
    "$CATSITE_ROOT/scripts/lock" --check
    for role in "${roles[@]}"; do
        venv="$(role_venv "$role")"
        (ensure_venv "$role")
        "$venv/bin/pip" check >&2 || die "pip check failed in the $role environment ($venv)"
        log "ok   $role: pip check passes ($(du -sh "$venv" | cut -f1), $("$venv/bin/pip" list 2>/dev/null | tail -n +3 | wc -l) packages)"
    done
    if [[ " ${roles[*]} " == *" web "* ]]; then
        found="$("$(role_venv web)/bin/pip" list 2>/dev/null | grep -iE '^(torch|nvidia-|triton) ' || true)"
        [[ -z "$found" ]] || die "the web environment holds PyTorch or CUDA: $found"
        log "ok   web: no torch, triton or nvidia-* package"
    fi
}

main "$@"
