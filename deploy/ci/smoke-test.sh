#!/usr/bin/env bash
# Steps 3-5 of the pipeline, for both images:
#   1. the web image alone (the model embedded): it holds no PyTorch, KServe or test tools;
#      start it, wait for /readyz, then the smoke and integration checks of smoke_checks.py
#      (model version in /version, a real cat photo identified, a text file refused with 400);
#   2. the model image (serve_model, the Open Inference Protocol v2) with the web image as its
#      client (INFERENCE_URL): /v2/health/ready, then the same checks through the service.
# The containers run as Kubernetes runs them: read-only root file system with a tmpfs /tmp, all
# capabilities dropped, no privilege escalation, on free ports of the host network. They are
# always stopped and removed; their logs are printed when anything fails.
# Env:
#   IMAGE               the web image (default catsite:ci)
#   MODEL_IMAGE         the model image (default catsite-model:ci)
#   MODEL_SRC           the model directory the images were built from (default var/build/model),
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
MODEL_IMAGE="${MODEL_IMAGE:-catsite-model:ci}"
MODEL_SRC="${MODEL_SRC:-var/build/model}"
READY_TIMEOUT="${READY_TIMEOUT:-120}"
ALLOWED_HOST=localhost
STARTED=()
passed=0

cleanup() {
    local container
    for container in "${STARTED[@]}"; do
        if (( passed == 0 )) && engine container inspect "$container" >/dev/null 2>&1; then
            log "logs of $container:"
            engine logs "$container" 2>&1 | tail -100 >&2 || true
        fi
        engine rm -f -t 5 "$container" >/dev/null 2>&1 || engine rm -f "$container" >/dev/null 2>&1 || true
    done
}

# start NAME IMAGE PORT ARGS...: run IMAGE detached as Kubernetes would (ARGS: engine options,
# then the image's command, after `--`).
start() {
    local name="$1" image="$2" port="$3" options=()
    shift 3
    while (( $# )) && [[ "$1" != -- ]]; do options+=("$1"); shift; done
    [[ "${1:-}" == -- ]] && shift
    # podman schedules health checks with systemd timers, absent here: run the check by hand.
    [[ "$(container_engine)" == podman ]] && options+=(--health-interval disable)
    log "starting $image as $name on port $port"
    STARTED+=("$name")
    engine run -d --name "$name" --network host \
        --read-only --tmpfs /tmp:rw,size=256m --tmpfs /dev/shm:rw,size=64m \
        --cap-drop ALL --security-opt no-new-privileges \
        -e PORT="$port" -e MODEL_REQUIRED=1 "${options[@]}" \
        "$image" "$@" > /dev/null 2> >(grep -v "unable to get systemd connection" >&2)
}

# wait_ready NAME URL: poll URL until it answers 200, the container dies, or the time is up.
wait_ready() {
    local name="$1" url="$2" deadline=$(( SECONDS + READY_TIMEOUT ))
    while (( SECONDS < deadline )); do
        if [[ "$(engine container inspect --format '{{.State.Running}}' "$name" 2>/dev/null)" != true ]]; then
            die "$name stopped before it was ready"
        fi
        if curl -fsS -o /dev/null --max-time 3 -H "Host: $ALLOWED_HOST" "$url" 2>/dev/null; then
            log "$name ready after $SECONDS s"
            return 0
        fi
        sleep 0.5
    done
    curl -sS --max-time 3 -H "Host: $ALLOWED_HOST" "$url" >&2 || true
    die "$name not ready within $READY_TIMEOUT s"
}

# The web image is the site alone: none of the model service's, the build's or the tests'
# libraries are importable in it.
check_web_image_contents() {
    local found
    found="$(engine run --rm --network none "$IMAGE" python -c '
import importlib.util
print(*[m for m in ("torch", "torchvision", "kserve", "onnx", "pytest", "playwright")
        if importlib.util.find_spec(m)])')"
    [[ -z "$found" ]] || die "the web image holds $found (it is the web role: requirements/web.txt)"
    log "ok   the web image holds no PyTorch, KServe, ONNX or test tools"
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
    local expected_version revision port url model_port secret_key web_env=()
    expected_version="${EXPECTED_MODEL_VERSION:-$(model_version "$MODEL_SRC")}"
    # /version must report the revision the image was labelled with at build time.
    revision="$(engine image inspect --format '{{ index .Config.Labels "org.opencontainers.image.revision" }}' "$IMAGE")"
    # A throwaway SQLite database in /tmp, migrated at start (the chart's Job does it in
    # Kubernetes); load_species loads the species the answers link to.
    secret_key="smoke-test-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
    web_env=(-e WEB_CONCURRENCY=2 -e GUNICORN_THREADS=2 -e "DJANGO_ALLOWED_HOSTS=$ALLOWED_HOST"
             -e DATABASE_URL=sqlite:////tmp/catsite.sqlite3 -e MIGRATE_ON_START=1
             -e "DJANGO_SECRET_KEY=$secret_key")
    trust_options
    web_env+=("${TRUST_ARGS[@]}")
    trap cleanup EXIT
    SECONDS=0

    log "1. the web image alone, with its embedded model"
    check_web_image_contents
    port="$(free_port)" url="http://127.0.0.1:$port"
    # Each web container its own metrics port: they share the host's network.
    start "catsite-smoke-$$" "$IMAGE" "$port" "${web_env[@]}" -e "METRICS_PORT=$(free_port)"
    wait_ready "catsite-smoke-$$" "$url/readyz"
    if [[ "$(container_engine)" == podman ]]; then
        engine healthcheck run "catsite-smoke-$$" || die "the image's HEALTHCHECK failed"
        log "ok   the image's HEALTHCHECK passes"
    fi
    "$(app_python)" "$CI_DIR/smoke_checks.py" "$url" --host "$ALLOWED_HOST" \
        --model-version "$expected_version" --revision "$revision"

    log "2. the model image (serve_model), with the web image as its client"
    model_port="$(free_port)"
    # The image's default command is the `model` role (deploy/docker/start.sh).
    start "catsite-smoke-model-$$" "$MODEL_IMAGE" "$model_port" -e "DJANGO_SECRET_KEY=$secret_key" \
        "${TRUST_ARGS[@]}"
    SECONDS=0
    wait_ready "catsite-smoke-model-$$" "http://127.0.0.1:$model_port/v2/health/ready"
    port="$(free_port)" url="http://127.0.0.1:$port"
    start "catsite-smoke-client-$$" "$IMAGE" "$port" "${web_env[@]}" \
        -e INFERENCE_URL="http://127.0.0.1:$model_port" -e "METRICS_PORT=$(free_port)"
    wait_ready "catsite-smoke-client-$$" "$url/readyz"
    "$(app_python)" "$CI_DIR/smoke_checks.py" "$url" --host "$ALLOWED_HOST" \
        --model-version "$expected_version" --revision "$revision"
    curl -s -H "Host: $ALLOWED_HOST" "$url/version" | grep -q '"service": true' \
        || die "/version does not say the model service answered"
    log "ok   the web image identified the cat through the model image (/version: \"service\": true)"
    passed=1
    log "smoke and integration tests passed against $IMAGE and $MODEL_IMAGE"
}

main "$@"
