#!/usr/bin/env bash
# Step 2 of the pipeline: evaluate the model the image will carry (MODEL_SRC/current, fetched by
# fetch-model.sh) with `manage.py evaluate_model` on EVALUATION_DATA's test split, print the
# metrics and keep them in var/build/evaluation/ (metrics.json, confusion.png), which the hosted
# pipelines archive. It reports, it does not gate: the gate is publish_model --alias champion
# --evaluate, before a model can become champion.
# Env:
#   MODEL_SRC         the fetched model directory (default var/build/model)
#   EVALUATION_DATA   an export_dataset folder (images/, labels.csv, dataset.json). Unset: the
#                     step says so and records why nothing was evaluated.
#   DATABASE_URL      the encyclopedia evaluate_model reads label owners from (default: a
#                     throwaway SQLite database, migrated, which loads the content)
set -euo pipefail
# shellcheck source=../../scripts/lib.sh
source "$(dirname "$0")/../../scripts/lib.sh"

MODEL_SRC="${MODEL_SRC:-var/build/model}"
OUT="$CATSITE_ROOT/var/build/evaluation"
WORK=""

skipped() {
    log "no evaluation: $1"
    python3 -c 'import json, sys; print(json.dumps({"evaluated": False, "reason": sys.argv[1]}))' \
        "$1" > "$OUT/metrics.json"
}

main() {
    cd "$CATSITE_ROOT"
    rm -rf "$OUT" && mkdir -p "$OUT"
    [[ -f "$MODEL_SRC/current/manifest.json" ]] \
        || die "no model in $MODEL_SRC: run fetch-model.sh first"
    if [[ -z "${EVALUATION_DATA:-}" ]]; then
        skipped "EVALUATION_DATA is not set (an export_dataset folder on this machine)"
        return 0
    fi
    # evaluate_model reads the encyclopedia (which entry each model label names): a throwaway
    # SQLite database, migrated (the migrations load the content), unless DATABASE_URL is set.
    WORK="$(mktemp -d)"
    trap 'rm -rf "$WORK"' EXIT
    export DATABASE_URL="${DATABASE_URL:-sqlite:///$WORK/encyclopedia.sqlite3}"
    manage migrate --noinput --verbosity 0 >&2
    log "evaluate_model $(model_name "$MODEL_SRC") $(model_version "$MODEL_SRC") on the test split of $EVALUATION_DATA"
    manage evaluate_model "$MODEL_SRC/current" --data "$EVALUATION_DATA" --split test \
        --json "$OUT/metrics.json" --plot "$OUT/confusion.png" >&2
    log "metrics:"
    cat "$OUT/metrics.json" >&2
}

main "$@"
