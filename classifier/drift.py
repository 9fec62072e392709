"""Drift of each model version in production: its answers over the last days of identifications
against the reference profile of its package (catmodel/evaluation/drift.py), by the population
stability index, for two signals:

- ``confidence``: the top answer's probability (the first of the answer's predictions, what
  catsite_prediction_confidence counts), in the reference's bins;
- ``answers``: the answers themselves (an entry's slug, a group's scientific name, or
  ``not_a_cat``: the answer key of classifier/answer.py).

The reference of a version is in its package: the installed ones (MODEL_DIR: ``current`` and
the versions kept for rollback) and the challenger's (MODEL_CHALLENGER_DIR). A version whose
package is not on disk, or whose package has no profile, has no reference: its indices are None,
as they are with fewer than DRIFT_MIN_IDENTIFICATIONS answers in the window.

    drift_by_version() -> {(model, version): {"confidence": 0.03, "answers": 0.12,
                                              "identifications": 812, "window_days": 7,
                                              "reference": {"split": "test", "count": 120}}}

Served as the gauges ``catsite_drift_psi{model, version, signal}``: under gunicorn one worker
at a time recomputes them every DRIFT_REFRESH_SECONDS and publishes them for the metrics port
(core/metrics_server.py), so a scrape never queries the database.
"""
from __future__ import annotations

import datetime
import fcntl
import logging
import os
import random
import threading
import time
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from catmodel.delivery.install import CURRENT, VERSIONS, installed_versions
from catmodel.evaluation import drift as profiles
from catmodel.inference import ClassifierError
from catmodel.inference.package import read_manifest
from classifier.answer import NOT_A_CAT_KEY
from classifier.models import Identification
from core import metrics_server

logger = logging.getLogger(__name__)

GAUGE = "catsite_drift_psi"
GAUGE_HELP = ("Population stability index of a model version's answers over the drift window "
              "against its package's reference profile, by signal (confidence, answers).")
SIGNALS = ("confidence", "answers")
_LOCK_FILE = ".drift.lock"


def live_answer_key(is_cat: bool, species_slug: str | None, taxon_name: str | None) -> str:
    """A stored answer's key (Answer.answer_key, read back from the API's JSON): the entry's
    slug, else the group's scientific name, else not_a_cat."""
    if not is_cat:
        return NOT_A_CAT_KEY
    return species_slug or taxon_name or ""


def reference_profiles() -> dict[tuple[str, str], profiles.Profile | None]:
    """(model name, version) -> the reference profile of each package on disk (None: a package
    without one). The installed versions of MODEL_DIR and of MODEL_CHALLENGER_DIR."""
    found: dict[tuple[str, str], profiles.Profile | None] = {}
    for model_dir in (settings.MODEL_DIR, settings.MODEL_CHALLENGER_DIR):
        if model_dir is None:
            continue
        model_dir = Path(model_dir)
        candidates = [model_dir / CURRENT,
                      *(model_dir / VERSIONS / v for v in installed_versions(model_dir))]
        for package in candidates:
            try:
                manifest = read_manifest(package)
            except (ClassifierError, OSError):
                continue  # not there, or not a package: no reference from it
            key = (manifest.name, manifest.version)
            if found.get(key) is None:
                found[key] = profiles.reference_of(manifest.raw)
    return found


def drift_by_version(window_days: int | None = None, *, now: datetime.datetime | None = None,
                     min_identifications: int | None = None) -> dict[tuple[str, str], dict]:
    """Each model version answering in the last ``window_days`` (default DRIFT_WINDOW_DAYS):
    the index of both signals against its reference (None without one, or with fewer than
    ``min_identifications`` answers, default DRIFT_MIN_IDENTIFICATIONS), and how many
    identifications the window holds."""
    window_days = settings.DRIFT_WINDOW_DAYS if window_days is None else window_days
    minimum = (settings.DRIFT_MIN_IDENTIFICATIONS if min_identifications is None
               else min_identifications)
    since = (now or timezone.now()) - datetime.timedelta(days=window_days)
    # Only the scalars needed, read out of the JSON by the database: not the whole answers.
    rows = (Identification.objects.filter(created_at__gte=since).order_by()
            .values_list("model_name", "model_version", "is_cat", "answer__species__slug",
                         "answer__taxon__scientific_name", "answer__predictions__0__probability")
            .iterator(chunk_size=2000))
    answers: dict[tuple[str, str], Counter] = {}
    confidences: dict[tuple[str, str], list[float]] = {}
    for name, version, is_cat, slug, taxon, probability in rows:
        key = (name, version)
        answers.setdefault(key, Counter())[live_answer_key(is_cat, slug, taxon)] += 1
        if isinstance(probability, (int, float)):
            confidences.setdefault(key, []).append(float(probability))
    references = reference_profiles() if answers else {}
    result = {}
    for key, counted in sorted(answers.items()):
        count = sum(counted.values())
        reference = references.get(key)
        entry = {"confidence": None, "answers": None, "identifications": count,
                 "window_days": window_days,
                 "reference": None if reference is None else {"split": reference.split,
                                                              "count": reference.count}}
        if reference is not None and count >= minimum:
            entry["answers"] = profiles.psi(reference.answer_shares,
                                            profiles.answer_shares(counted.elements()))
            values = confidences.get(key, [])
            if len(values) >= minimum:
                entry["confidence"] = profiles.psi(
                    reference.confidence_shares,
                    profiles.confidence_shares(values, reference.confidence_bins))
        result[key] = entry
    return result


def gauge_family(drift: dict[tuple[str, str], dict]) -> dict:
    """``drift_by_version``'s indices as the published gauge family (None: no sample)."""
    return {"name": GAUGE, "documentation": GAUGE_HELP, "labels": ["model", "version", "signal"],
            "samples": [[model, version, signal, entry[signal]]
                        for (model, version), entry in sorted(drift.items())
                        for signal in SIGNALS if entry[signal] is not None]}


def refresh_gauges(folder, every: float) -> bool:
    """Recompute and publish the gauges unless another worker is at it or did so less than
    ``every`` seconds ago; True when this call published them."""
    folder = Path(folder)
    with open(folder / _LOCK_FILE, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # another worker is computing them now
        last = metrics_server.published_at(folder)
        if last is not None and time.time() - last < every:
            return False
        family = gauge_family(drift_by_version())
        # Served for a few rounds: a worker that stops renewing them (every worker gone) does
        # not leave old numbers up for long.
        metrics_server.publish_gauges([family], expires_in=4 * every, folder=folder)
        return True


_refresher: threading.Thread | None = None


def start_refresher() -> threading.Thread | None:
    """Under gunicorn (PROMETHEUS_MULTIPROC_DIR set): a daemon thread in this worker that keeps
    the drift gauges fresh; at most one computes at a time across the workers. None when there
    is nothing to do (no metrics folder, or DRIFT_REFRESH_SECONDS is 0)."""
    global _refresher
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    every = settings.DRIFT_REFRESH_SECONDS
    if not folder or not every or _refresher is not None:
        return _refresher
    _refresher = threading.Thread(target=_refresh_forever, args=(folder, every),
                                  name="drift-gauges", daemon=True)
    _refresher.start()
    return _refresher


def _refresh_forever(folder: str, every: float) -> None:
    failing = False
    while True:
        try:
            refresh_gauges(folder, every)
            failing = False
        except Exception:  # a database down must not end the thread: it tries again later
            if not failing:
                logger.exception("Computing the drift gauges failed; trying again in %s s", every)
            failing = True
        finally:
            close_old_connections()
        # Workers wake at different moments, so the one that finds the gauges stale varies.
        time.sleep(every * random.uniform(0.5, 1.0))
