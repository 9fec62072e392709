#!/usr/bin/env bash
# Validate the CI/CD definitions and the scripts they call, offline:
#   - both pipeline files parse as YAML and pass yamllint (duplicate keys, indentation, ...);
#   - actionlint on .github/workflows (expressions, job needs, runner labels, and ShellCheck on
#     every `run:` step);
#   - azure-pipelines.yml has the expected shape (stages Build -> Publish -> Staging ->
#     Production, each after Build a deployment job behind an environment, a nightly schedule
#     on main);
#   - no job without an environment (branch and pull-request builds) receives a credential that
#     can write the model store or sign models (write_credentials.py);
#   - every secret a job receives is allow-listed for that job, and for its environment
#     (deploy/ci/ci-secrets.yml, secret_allowlist.py): the registry password only in the push
#     job, whose environment allows main only;
#   - every deploy/ci or scripts/ command the pipelines call exists and is executable (the
#     pipelines stay thin: all logic is in those scripts);
#   - ShellCheck (warning level) on every shell script of the project (shell_scripts).
set -euo pipefail
# shellcheck source=../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"

WORKFLOWS=("$CATSITE_ROOT"/.github/workflows/*.yml)
AZURE="$CATSITE_ROOT/azure-pipelines.yml"
failed=0
fail() { log "FAIL: $*"; failed=1; }

check_azure_shape() {
    python3 - "$AZURE" <<'PY' || return 1
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
stages = [s["stage"] for s in doc["stages"]]
problems = []
if stages != ["Build", "Publish", "Staging", "Production"]:
    problems.append(f"stages are {stages}, expected Build, Publish, Staging, Production")
by_name = {s["stage"]: s for s in doc["stages"]}
for name in ("Publish", "Staging", "Production"):
    jobs = by_name.get(name, {}).get("jobs", [])
    if not any("deployment" in job and job.get("environment") for job in jobs):
        problems.append(f"stage {name} has no deployment job with an environment")
if by_name.get("Production", {}).get("dependsOn") != "Staging":
    problems.append("Production must depend on Staging")
if by_name.get("Staging", {}).get("dependsOn") != "Publish":
    problems.append("Staging must depend on Publish")
if not any("main" in s.get("branches", {}).get("include", []) for s in doc.get("schedules", [])):
    problems.append("no nightly schedule on main")
for problem in problems:
    print(problem, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
}

# Every ./scripts/x or deploy/ci/x.sh a pipeline mentions must exist, and be executable unless
# it is a sourced library (lib.sh).
check_called_scripts() {
    local file="$1" script ok=0
    while read -r script; do
        if [[ ! -f "$CATSITE_ROOT/$script" ]] \
                || [[ "$(basename "$script")" != lib.sh && ! -x "$CATSITE_ROOT/$script" ]]; then
            fail "$(basename "$file") calls $script, which is missing or not executable"; ok=1
        fi
    done < <(grep -oE '(\./)?(deploy/ci|scripts)/[A-Za-z0-9_.-]+' "$file" \
             | sed 's|^\./||' | sort -u)
    return "$ok"
}

main() {
    "$CI_DIR/install-tools.sh" --no-container >/dev/null
    use_tools
    local file
    for file in "${WORKFLOWS[@]}" "$AZURE"; do
        [[ -f "$file" ]] || { fail "missing $file"; continue; }
        log "yamllint $(basename "$file")"
        yamllint -s -c "$CI_DIR/yamllint-pipelines.yml" "$file" >&2 || fail "yamllint $file"
        check_called_scripts "$file" || true
    done
    log "actionlint .github/workflows"
    (cd "$CATSITE_ROOT" && actionlint -color=false) >&2 || fail "actionlint"
    log "azure-pipelines.yml shape"
    check_azure_shape || fail "azure-pipelines.yml shape"
    log "write credentials only in jobs with an environment"
    python3 "$CI_DIR/write_credentials.py" "$AZURE" "${WORKFLOWS[@]}" \
        || fail "a job without an environment receives a write credential"
    log "secrets only where deploy/ci/ci-secrets.yml allows them"
    python3 "$CI_DIR/secret_allowlist.py" "$CI_DIR/ci-secrets.yml" "$AZURE" "${WORKFLOWS[@]}" \
        || fail "a job receives a secret that deploy/ci/ci-secrets.yml does not allow it"
    local scripts=()
    mapfile -t scripts < <(shell_scripts)
    log "shellcheck -S warning on ${#scripts[@]} shell scripts"
    (cd "$CATSITE_ROOT" && shellcheck --external-sources --severity=warning "${scripts[@]}") >&2 \
        || fail "shellcheck"
    (( failed == 0 )) || die "pipeline validation failed"
    log "pipelines and CI scripts valid"
}

main "$@"
