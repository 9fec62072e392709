#!/usr/bin/env bash
# Steps 3-5 of the pipeline: start the image, wait for /readyz, then the smoke and integration
# checks of smoke_checks.py (model version in /version, a real cat photo identified, a text
# file refused with 400). The container runs as Kubernetes runs it: read-only root file system
# with a tmpfs /tmp, all capabilities dropped, no privilege escalation, on a free port of the
# host network. It is always stopped and removed; its logs are printed when anything fails.
# Env:
#   IMAGE               image to test (default catsite:ci)
#   MODEL_SRC           the model directory the image was built from (default var/build/model),
#                       for the expected version; or EXPECTED_MODEL_VERSION
#   READY_TIMEOUT       seconds to wait for /readyz (default 120)
#   MODEL_TRUSTED_KEYS  public keys (host paths, comma-separated) the image's model must be
#                       signed by: mounted read-only and required, as the chart does. Unset (a
#                       locally built, unsigned model), the container is started with
#                       MODEL_ALLOW_UNSIGNED=1, deliberately: with debug off it refuses otherwise.
set -euo pipefail
# shellcheck source=../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"

IMAGE="${IMAGE:-catsite:ci}"
MODEL_SRC="${MODEL_SRC:-var/build/model}"
READY_TIMEOUT="${READY_TIMEOUT:-120}"
CONTAINER="catsite-smoke-$$"
ALLOWED_HOST=localhost
passed=0

cleanup() {
    if (( passed == 0 )) && engine container inspect "$CONTAINER" >/dev/null 2>&1; then
        log "container logs:"
        engine logs "$CONTAINER" 2>&1 | tail -100 >&2 || true
    fi
    engine rm -f -t 5 "$CONTAINER" >/dev/null 2>&1 || engine rm -f "$CONTAINER" >/dev/null 2>&1 || true
}

# Poll /readyz until it answers 200, the container dies, or the time is up.
wait_ready() {
    local url="$1" deadline=$(( SECONDS + READY_TIMEOUT ))
    while (( SECONDS < deadline )); do
        if [[ "$(engine container inspect --format '{{.State.Running}}' "$CONTAINER" 2>/dev/null)" != true ]]; then
            die "the container stopped before it was ready"
        fi
        if curl -fsS -o /dev/null --max-time 3 -H "Host: $ALLOWED_HOST" "$url/readyz" 2>/dev/null; then
            log "ready after $SECONDS s"
            return 0
        fi
        sleep 0.5
    done
    curl -sS --max-time 3 -H "Host: $ALLOWED_HOST" "$url/readyz" >&2 || true
    die "not ready within $READY_TIMEOUT s"
}

# The container's options for the model's signature (see MODEL_TRUSTED_KEYS above), added to
# the array TRUST_ARGS (not printed: a failure here must stop the script).
TRUST_ARGS=()
trust_options() {
    local dir=/etc/catsite/signing-keys key keys=() paths=()
    if [[ -z "${MODEL_TRUSTED_KEYS:-}" ]]; then
        log "MODEL_TRUSTED_KEYS unset: serving the image's model without a signature check"
        TRUST_ARGS+=(-e MODEL_ALLOW_UNSIGNED=1)
        return
    fi
    IFS=, read -r -a keys <<<"$MODEL_TRUSTED_KEYS"
    for key in "${keys[@]}"; do
        [[ -f "$key" ]] || die "MODEL_TRUSTED_KEYS: $key is not a file"
        TRUST_ARGS+=(-v "$(readlink -f "$key"):$dir/$(basename "$key"):ro")
        paths+=("$dir/$(basename "$key")")
    done
    TRUST_ARGS+=(-e "MODEL_TRUSTED_KEYS=$(IFS=,; echo "${paths[*]}")")
}

main() {
    cd "$CATSITE_ROOT"
    local expected_version revision port url
    expected_version="${EXPECTED_MODEL_VERSION:-$(model_version "$MODEL_SRC")}"
    # /version must report the revision the image was labelled with at build time.
    revision="$(engine image inspect --format '{{ index .Config.Labels "org.opencontainers.image.revision" }}' "$IMAGE")"
    port="$(free_port)"
    url="http://127.0.0.1:$port"
    trap cleanup EXIT

    log "starting $IMAGE as $CONTAINER on port $port"
    SECONDS=0
    # The start script migrates a throwaway SQLite database in /tmp (the chart's Job does it
    # in Kubernetes) and load_species loads the species the answers link to.
    local health_args=()
    # podman schedules health checks with systemd timers, absent here: run the check by hand.
    [[ "$(container_engine)" == podman ]] && health_args=(--health-interval disable)
    trust_options
    engine run -d --name "$CONTAINER" --network host "${health_args[@]}" "${TRUST_ARGS[@]}" \
        --read-only --tmpfs /tmp:rw,size=256m --tmpfs /dev/shm:rw,size=64m \
        --cap-drop ALL --security-opt no-new-privileges \
        -e PORT="$port" -e WEB_CONCURRENCY=2 -e GUNICORN_THREADS=2 \
        -e DJANGO_SECRET_KEY="smoke-test-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" \
        -e DJANGO_ALLOWED_HOSTS="$ALLOWED_HOST" \
        -e DATABASE_URL=sqlite:////tmp/catsite.sqlite3 -e MIGRATE_ON_START=1 \
        -e MODEL_REQUIRED=1 \
        "$IMAGE" > /dev/null 2> >(grep -v "unable to get systemd connection" >&2)
    wait_ready "$url"

    if [[ "$(container_engine)" == podman ]]; then
        engine healthcheck run "$CONTAINER" || die "the image's HEALTHCHECK failed"
        log "ok   the image's HEALTHCHECK passes"
    fi
    "$(app_python)" "$CI_DIR/smoke_checks.py" "$url" --host "$ALLOWED_HOST" \
        --model-version "$expected_version" --revision "$revision"
    passed=1
    log "smoke and integration tests passed against $IMAGE"
}

main "$@"
