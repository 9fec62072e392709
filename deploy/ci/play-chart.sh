#!/usr/bin/env bash
# The chart, played: renders the Helm chart and runs its pods with `podman kube play` against
# the image just built, as a cluster would run them (kube_play.py says how kube play differs and
# what is adapted), with the web and model images just built. Two releases:
#   1. inference.mode=service, model fetched at pod start (init container) from Azurite:
#      the web and model pods start on a fresh PostgreSQL database (the machine's server, a
#      database of this script's own) and /readyz refuses traffic while migrations are
#      unapplied; the migration Job's pod runs to completion, then the purge_feedback
#      CronJob's pod once; then the web pod passes its probes (curled here: podman does not
#      run them) with the chart's security context, and identifies a cat through the model
#      pod (smoke_checks.py).
#   2. an upgrade to another model version, embedded in the web pod (fetched at start): the
#      migration pod runs again, the pods are replaced, /version names the new version.
# Needs podman (kube play), helm, catatonit (pause image), Azurite (scripts/install-azurite.sh),
# PostgreSQL on 127.0.0.1:5432. Env:
#   IMAGE             the web image to play (default catsite:ci)
#   MODEL_IMAGE       the model image, for the model service (default catsite-model:ci)
#   MODEL_SRC         the model directory the image was built from (default var/build/model)
#   PLAY_DATABASE     the database created (and dropped) for the run (default catsite_kube_play)
#   PLAY_KEEP=1       keep the pods, secrets and files after the run (for debugging)
#   READY_TIMEOUT     seconds to wait for a pod to answer (default 180)
set -euo pipefail
# shellcheck source=../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"

IMAGE="${IMAGE:-catsite:ci}"
MODEL_IMAGE="${MODEL_IMAGE:-catsite-model:ci}"
MODEL_SRC="${MODEL_SRC:-var/build/model}"
PLAY_DATABASE="${PLAY_DATABASE:-catsite_kube_play}"
READY_TIMEOUT="${READY_TIMEOUT:-180}"
CHART="$CATSITE_ROOT/deploy/helm/catsite"
RELEASE=catsite-play
HOST_HEADER=catsite.local
PG="postgres://postgres@127.0.0.1:5432"
# Azurite's development account: a well-known, public key (Microsoft's documentation).
AZURITE_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

WORK="" AZURITE_PID="" PLAYED=() SECRETS=()

cleanup() {
    local status=$?
    if [[ "${PLAY_KEEP:-0}" == 1 ]]; then log "kept: pods, secrets and $WORK"; return; fi
    if (( status != 0 )); then pod_logs; fi
    local file
    for file in "${PLAYED[@]}"; do down "$file" 2>/dev/null || true; done
    remove_release_pods
    for file in "${SECRETS[@]}"; do engine secret rm "$file" >/dev/null 2>&1 || true; done
    for file in $(engine volume ls --format '{{.Name}}' | grep "^$RELEASE-"); do
        engine volume rm -f "$file" >/dev/null 2>&1 || true
    done
    [[ -n "$AZURITE_PID" ]] && kill -- "-$AZURITE_PID" 2>/dev/null
    dropdb -h 127.0.0.1 -U postgres --if-exists "$PLAY_DATABASE" 2>/dev/null || true
    [[ -n "$WORK" ]] && rm -rf "$WORK"
    return 0
}

# Pods of this release however they were left (a play that failed half-way is in no PLAYED
# file, and an earlier run killed before its cleanup leaves its pods): names in use would stop
# the next play.
remove_release_pods() {
    local pod
    for pod in $(engine pod ls --format '{{.Name}}' | grep "^$RELEASE-"); do
        engine pod rm -f "$pod" >/dev/null 2>&1 || true
    done
}

# The last lines of every container of the played pods, when something failed.
pod_logs() {
    local container
    for container in $(engine ps -a --filter "label=app.kubernetes.io/instance=$RELEASE" --format '{{.Names}}'); do
        log "logs of $container:"
        engine logs --tail 40 "$container" 2>&1 | sed 's/^/    /' >&2 || true
    done
}

manage() {
    DJANGO_SECRET_KEY=kube-play-host-side-not-a-secret "$(app_python)" "$CATSITE_ROOT/manage.py" "$@"
}

start_azurite() {
    local binary port
    binary="$("$CATSITE_ROOT/scripts/install-azurite.sh" | tail -1)"
    port="$(free_port)"
    mkdir -p "$WORK/azurite"
    setsid "$binary" --silent --disableTelemetry --skipApiVersionCheck --loose \
        --location "$WORK/azurite" --blobHost 127.0.0.1 --blobPort "$port" \
        > "$WORK/azurite.log" 2>&1 &
    AZURITE_PID=$!
    AZURE_CONNECTION="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$AZURITE_KEY;BlobEndpoint=http://127.0.0.1:$port/devstoreaccount1;"
    local deadline=$(( SECONDS + 30 ))
    until curl -s -o /dev/null "http://127.0.0.1:$port/devstoreaccount1?comp=list"; do
        (( SECONDS < deadline )) || die "Azurite did not start: $(cat "$WORK/azurite.log")"
        sleep 0.2
    done
    log "Azurite on 127.0.0.1:$port"
}

# Publish the image's model as two versions (the same files; the manifest names the version).
publish_models() {
    local package
    package="$(readlink -f "$MODEL_SRC/current")"
    MODEL_V1="$(model_version "$MODEL_SRC")"
    MODEL_V2="$MODEL_V1-play2"
    for version in "$MODEL_V1" "$MODEL_V2"; do
        MODEL_STORE=azure AZURE_STORAGE_CONNECTION_STRING="$AZURE_CONNECTION" \
            manage publish_model "$package" --version "$version" --verbosity 0
    done
    log "published $(model_name "$MODEL_SRC") $MODEL_V1 and $MODEL_V2 to Azurite"
}

# render NAME HELM-ARGS...: the chart as a cluster would get it, adapted for kube play into
# $WORK/NAME/{release,migrate}.yaml and secrets/.
# model.allowUnsigned: the packages published above are unsigned (no private key here), and
# with debug off the pods refuse to serve them otherwise; signed serving is tested elsewhere.
render() {
    local name="$1"
    shift
    mkdir -p "$WORK/$name"
    helm template "$RELEASE" "$CHART" --namespace catsite \
        --set image.repository="${IMAGE%:*}" --set image.tag="${IMAGE##*:}" \
        --set image.pullPolicy=Never --set replicaCount=1 \
        --set inference.service.image.repository="${MODEL_IMAGE%:*}" \
        --set inference.service.image.tag="${MODEL_IMAGE##*:}" \
        --set containerPort="$WEB_PORT" --set inference.service.port="$MODEL_PORT" \
        --set inference.service.modelName="$(model_name "$MODEL_SRC")" \
        --set metrics.port="$METRICS_PORT" \
        --set "config.allowedHosts={$HOST_HEADER}" \
        --set config.extraEnv.MODEL_STORE=azure \
        --set-string secret.data.DJANGO_SECRET_KEY="kube-play-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" \
        --set-string secret.data.DATABASE_URL="$PG/$PLAY_DATABASE" \
        --set-string secret.data.AZURE_STORAGE_CONNECTION_STRING="$AZURE_CONNECTION" \
        --set model.fetchAtStart.enabled=true \
        --set model.allowUnsigned=true \
        "$@" > "$WORK/$name/rendered.yaml"
    log "$name: $("$(app_python)" "$CI_DIR/kube_play.py" "$WORK/$name/rendered.yaml" "$WORK/$name")"
    local secret
    for secret in "$WORK/$name"/secrets/*.json; do
        secret="$(basename "$secret" .json)"
        engine secret rm "$secret" >/dev/null 2>&1 || true
        engine secret create "$secret" "$WORK/$name/secrets/$secret.json" >/dev/null
        SECRETS+=("$secret")
    done
}

# podman without systemd logs errors about health-check timers and containers it already
# removed; they say nothing about the pods.
podman_noise() { grep -vE "unable to get systemd connection|found in DB: no such container" >&2; }

play() {
    PLAYED+=("$1")
    engine kube play "$1" > /dev/null 2> >(podman_noise)
}

down() { engine kube down "$1" > /dev/null 2> >(podman_noise); }

# run_once FILE CONTAINER WHAT: play a Job's pod and wait for CONTAINER to exit 0; its output
# is kept in $WORK/<pod>.log.
run_once() {
    local file="$1" what="$3" pod container status
    play "$file"
    pod="$(yq_pod_name "$file")"
    container="$pod-$2"
    status="$(engine wait "$container")"
    engine logs "$container" > "$WORK/$pod.log" 2>&1 || true
    [[ "$status" == 0 ]] || { cat "$WORK/$pod.log" >&2; die "$what's pod exited with $status"; }
    log "ok   $what's pod $pod ran to completion"
    down "$file"
}

# The migration Job's pod: runs `manage.py migrate` to completion (exit status 0).
run_migrations() { run_once "$1/migrate.yaml" migrate "the migration Job"; }

# The purge_feedback CronJob's pod, once, on the migrated database (nothing to purge yet).
run_purge() {
    run_once "$1/scheduled.yaml" purge-feedback "the purge_feedback CronJob"
    grep -q "Deleted 0 photo(s)" "$WORK/$(yq_pod_name "$1/scheduled.yaml").log" \
        || die "purge_feedback said: $(cat "$WORK/$(yq_pod_name "$1/scheduled.yaml").log")"
}

yq_pod_name() {
    "$(app_python)" -c 'import sys, yaml
print(next(d["metadata"]["name"] for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "Pod"))' "$1"
}

# wait_for URL STATUS: until URL answers STATUS (the Host header the chart's probes send).
wait_for() {
    local url="$1" want="$2" got="" deadline=$(( SECONDS + READY_TIMEOUT ))
    while (( SECONDS < deadline )); do
        got="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Host: $HOST_HEADER" "$url" || true)"
        [[ "$got" == "$want" ]] && return 0
        sleep 1
    done
    die "$url answered ${got:-nothing}, expected $want within $READY_TIMEOUT s"
}

# The chart's security context, as podman applied it to the web container.
check_security_context() {
    local container="$1" user read_only caps
    user="$(engine inspect --format '{{.Config.User}}' "$container")"
    read_only="$(engine inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$container")"
    caps="$(engine inspect --format '{{.EffectiveCaps}}' "$container")"
    [[ "$user" == 10001* && "$read_only" == true && "$caps" == "[]" ]] \
        || die "$container runs as user '$user', read-only root '$read_only', capabilities $caps"
    engine exec "$container" sh -c 'touch /app/written 2>/dev/null' \
        && die "$container could write to its root file system"
    log "ok   $container: user $user, read-only root file system, no capabilities"
}

# wait_for_model: until /readyz says the model is loaded (in service mode the web pod is ready
# before the model service is, and looks again every few seconds).
wait_for_model() {
    local deadline=$(( SECONDS + READY_TIMEOUT ))
    until curl -s --max-time 5 -H "Host: $HOST_HEADER" "$WEB_URL/readyz" | grep -q '"loaded": true'; do
        (( SECONDS < deadline )) || die "/readyz: the model is not loaded after $READY_TIMEOUT s"
        sleep 1
    done
}

web_checks() {
    local version="$1"
    wait_for "$WEB_URL/healthz" 200
    wait_for "$WEB_URL/readyz" 200
    log "ok   web pod passes its probes (/healthz, /readyz)"
    wait_for_model
    "$(app_python)" "$CI_DIR/smoke_checks.py" "$WEB_URL" --host "$HOST_HEADER" --model-version "$version"
}

pod_id() { engine pod inspect --format '{{.Id}}' "$1"; }

main() {
    cd "$CATSITE_ROOT"
    [[ "$(container_engine)" == podman ]] || die "kube play needs podman (the engine here is $(container_engine))"
    use_tools
    WORK="$(mktemp -d)"
    trap cleanup EXIT
    remove_release_pods
    WEB_PORT="$(free_port)" MODEL_PORT="$(free_port)" METRICS_PORT="$(free_port)"
    WEB_URL="http://127.0.0.1:$WEB_PORT"
    start_azurite
    publish_models
    dropdb -h 127.0.0.1 -U postgres --if-exists "$PLAY_DATABASE" 2>/dev/null || true
    createdb -h 127.0.0.1 -U postgres "$PLAY_DATABASE"

    log "release 1: model service, $MODEL_V1 fetched at start by the model pod's init container"
    render release1 --set inference.mode=service --set inference.service.autoscaling.enabled=false \
        --set inference.service.replicaCount=1 --set model.fetchAtStart.version="$MODEL_V1"
    # Helm runs the migration hook first; here the pods start first, to see /readyz refuse
    # traffic while the database has no tables.
    play "$WORK/release1/release.yaml"
    wait_for "$WEB_URL/healthz" 200
    curl -s --max-time 5 -H "Host: $HOST_HEADER" "$WEB_URL/readyz" | grep -q '"migrations": {"ok": false' \
        || die "/readyz did not report the unapplied migrations"
    wait_for "$WEB_URL/readyz" 503
    log "ok   /readyz answers 503 while migrations are unapplied"
    run_migrations "$WORK/release1"
    run_purge "$WORK/release1"
    # The model's own readiness, the path of the chart's probe (the server's /v2/health/ready
    # stays true without a loaded model).
    wait_for "http://127.0.0.1:$MODEL_PORT/v2/models/$(model_name "$MODEL_SRC")/ready" 200
    local fetched
    fetched="$(engine exec "$RELEASE-model-pod-0-model" python -c \
        'import json; print(json.load(open("/models/current/manifest.json"))["version"])')"
    [[ "$fetched" == "$MODEL_V1" ]] || die "the model pod's /models holds version '$fetched'"
    log "ok   model pod ready (/v2/models/<name>/ready) serving $fetched, fetched and verified by its init container"
    local model_image
    model_image="$(engine inspect --format '{{.ImageName}}' "$RELEASE-model-pod-0-model")"
    [[ "$model_image" == *"$MODEL_IMAGE" ]] \
        || die "the model pod runs $model_image, not the model image $MODEL_IMAGE"
    log "ok   the model pod runs the model image ($model_image)"
    check_security_context "$RELEASE-model-pod-0-model"
    check_security_context "$RELEASE-pod-0-web"
    web_checks "$MODEL_V1"
    curl -s -H "Host: $HOST_HEADER" "$WEB_URL/version" | grep -q '"service": true' \
        || die "/version does not say the model service answered"
    log "ok   the web pod identified the cat through the model pod (/version: \"service\": true)"
    local first
    first="$(pod_id "$RELEASE-pod-0")"

    log "release 2: upgrade to $MODEL_V2, embedded in the web pod, fetched at start"
    render release2 --set model.fetchAtStart.version="$MODEL_V2"
    run_migrations "$WORK/release2"
    down "$WORK/release1/release.yaml"
    play "$WORK/release2/release.yaml"
    web_checks "$MODEL_V2"
    [[ "$(pod_id "$RELEASE-pod-0")" != "$first" ]] || die "release 2 did not replace the web pod"
    log "ok   release 2 replaced the pods; /version names $MODEL_V2"
    log "the chart played: migrations, the purge CronJob, probes, security context, init-container fetch, model service, upgrade"
}

main "$@"
