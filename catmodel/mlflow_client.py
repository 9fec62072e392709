"""The MLflow client as catsite makes it, for the MLflow model store (catmodel/delivery/
mlflow_store.py) and experiment tracking (catmodel/tracking.py): bounded timeouts and retries,
credentials kept out of messages, network failures told apart; and where a package's manifest
records the MLflow run that trained it. mlflow itself is imported only when a client is made.
"""
from __future__ import annotations

import math
import os
from collections.abc import Mapping

from catmodel.redaction import redact

# manifest.json: lineage.mlflow = {"run_id", "experiment_id", "experiment"} (train_model with
# MLFLOW_TRACKING_URI): the run that trained the package.
RUN_RECORD = "mlflow"
# Names that run: on a registered model version (its package's training run), on an evaluation
# run (the evaluated package's training run).
TRAINING_RUN_TAG = "catsite.training_run_id"


def training_run(document: Mapping) -> dict | None:
    """The MLflow run a manifest's package was trained in ({"run_id", ...}), or None."""
    lineage = document.get("lineage")
    record = lineage.get(RUN_RECORD) if isinstance(lineage, Mapping) else None
    if isinstance(record, Mapping) and isinstance(record.get("run_id"), str):
        return dict(record)
    return None


def mlflow_client(tracking_uri: str, timeout: float, retries: int):
    """An MlflowClient on ``tracking_uri`` (tracking and registry) whose requests give up after
    ``retries`` retries of ``timeout`` seconds. The one place catsite makes one: the store and
    the experiment tracking (catmodel/tracking.py) share it."""
    # MLflow's client reads its timeout and retries only from the environment; settings give
    # every client the same bounds, unless the operator set MLflow's own variables.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(max(1, math.ceil(timeout))))
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", str(max(0, retries)))
    # The client prints links to runs on stdout, where our commands print their results.
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def client_secrets() -> list[str]:
    """Values that must never reach a message (MLflow reads them from the environment)."""
    return [os.environ[k] for k in ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_PASSWORD")
            if os.environ.get(k)]


def public_uri(tracking_uri: str) -> str:
    """The tracking URI as messages show it: no user:password@, no secret."""
    return redact(without_credentials(tracking_uri), client_secrets())


def is_network_error(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is a connection that failed, timed out or broke."""
    import requests
    import urllib3

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (requests.ConnectionError, requests.Timeout,
                             requests.exceptions.ChunkedEncodingError,
                             urllib3.exceptions.HTTPError, ConnectionError, TimeoutError)):
            return True
        seen = seen.__cause__ or seen.__context__
    text = str(exc)
    return any(sign in text for sign in ("Max retries exceeded", "Connection refused",
                                         "Connection aborted", "Read timed out"))


def without_credentials(uri: str) -> str:
    """The URI without a user:password@ part, for messages."""
    scheme, sep, rest = uri.partition("://")
    return f"{scheme}{sep}{rest.split('@', 1)[-1]}" if sep else uri
