"""The MLflow run of a command (train_model, evaluate_model), from settings: MLFLOW_TRACKING_URI
(none: no run, nothing imported), MLFLOW_EXPERIMENT_NAME, and the store's timeout and retries
(one MLflow client configuration for the registry and the tracking). See catmodel/tracking.py
for what a run holds."""
from __future__ import annotations

from collections.abc import Callable, Mapping

from django.conf import settings

from catmodel.tracking import NO_RUN, Run, open_run


def command_run(*, skip: bool, run_name: str, tags: Mapping[str, str],
                report: Callable[[str], None], warn: Callable[[str], None]) -> Run:
    """The command's run (NO_RUN with --no-tracking or without MLFLOW_TRACKING_URI);
    TrackingUnavailable (one line) when the server cannot be reached."""
    if skip or not settings.MLFLOW_TRACKING_URI:
        return NO_RUN
    return open_run(settings.MLFLOW_TRACKING_URI, settings.MLFLOW_EXPERIMENT_NAME,
                    run_name=run_name, tags=tags, timeout=settings.MODEL_STORE_TIMEOUT_SECONDS,
                    retries=settings.MODEL_STORE_RETRIES, report=report, warn=warn)
