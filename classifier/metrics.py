"""What the model does, as Prometheus metrics (served by core.metrics at /metrics).

- ``catsite_identifications_total{model, version, outcome, species}``: every identification,
  outcome ``cat``, ``not_a_cat`` or the error code (``invalid_image``, ``model_unavailable``...);
  species is the answer for a cat (the entry's slug, or a group such as "Lynx"), else empty;
- ``catsite_identify_seconds{stage}``: decode, preprocess, inference and total;
- ``catsite_prediction_confidence``: the top answer's probability. With the not-a-cat share
  (``outcome="not_a_cat"`` over all answers) the drift signals that need no labels;
- ``catsite_feedback_total{verdict, model, version}``: the visitors' verdicts on answers, by
  the model name and version that gave the answer (``count_feedback``); the confirmed share of a
  version is ``verdict="correct"`` over all its verdicts (manage.py model_report has it with
  its interval, from the database);
- ``catsite_model_info{name, version}`` (1 while served) and ``catsite_model_loaded`` (0 when a
  worker has no model: the lowest across live workers);
- ``catsite_drift_psi{model, version, signal}``: the population stability index of each version's
  answers (``answers``) and top answer probabilities (``confidence``) over DRIFT_WINDOW_DAYS
  against its package's reference profile (classifier/drift.py; published by one worker);
- ``catsite_shadow_predictions_total{challenger_version}`` and
  ``catsite_shadow_agreement_total{challenger_version, agreed}``: the challenger scored in the
  shadow (classifier/shadow.py); ``catsite_shadow_shed_total``: sampled photos a busy server
  did not score.
"""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from catmodel.evaluation.drift import CONFIDENCE_EDGES
from classifier.answer import NOT_A_CAT_KEY
from core.metrics import LATENCY_BUCKETS

# The bins of drift's reference profiles (catmodel/evaluation/drift.py), so both read alike.
CONFIDENCE_BUCKETS = CONFIDENCE_EDGES[1:]

identifications = Counter(
    "catsite_identifications", "Identifications, by model, outcome and best cat species.",
    ["model", "version", "outcome", "species"])
identify_seconds = Histogram(
    "catsite_identify_seconds", "Time spent identifying a photo, by stage.", ["stage"],
    buckets=LATENCY_BUCKETS)
prediction_confidence = Histogram(
    "catsite_prediction_confidence", "Probability of the top answer of each identification.",
    buckets=CONFIDENCE_BUCKETS)
feedback = Counter(
    "catsite_feedback", "Visitors' verdicts on answers, by the model version that answered.",
    ["verdict", "model", "version"])
model_info = Gauge(
    "catsite_model_info", "The model served (1), by name and version.", ["name", "version"],
    multiprocess_mode="livemax")
model_loaded = Gauge(
    "catsite_model_loaded", "1 when every live worker serves a model, 0 when one has none.",
    multiprocess_mode="livemin")
shadow_predictions = Counter(
    "catsite_shadow_predictions", "Identifications also scored by the challenger.",
    ["challenger_version"])
shadow_agreement = Counter(
    "catsite_shadow_agreement", "Challenger answers, by whether they agreed with the champion.",
    ["challenger_version", "agreed"])
shadow_shed = Counter(
    "catsite_shadow_shed", "Sampled photos not scored by the challenger: the server was busy.")

STAGES = ("decode", "preprocess", "inference", "total")


def count_identification(identification) -> None:
    """An answer given (a classifier.answer.Answer)."""
    outcome = "cat" if identification.is_cat else NOT_A_CAT_KEY
    identifications.labels(identification.model_name, identification.model_version, outcome,
                           identification.answer_key if identification.is_cat else "").inc()
    for stage in STAGES:
        identify_seconds.labels(stage).observe(identification.timings_ms[stage] / 1000)
    prediction_confidence.observe(identification.best.probability)


def count_failed_identification(code: str, model: str, version: str) -> None:
    """An identification refused or failed with the error ``code``, by the model served at the
    time ("" without one)."""
    identifications.labels(model, version, code, "").inc()


def count_feedback(verdict: str, model: str, version: str) -> None:
    """A visitor's verdict on an answer given by the model ``model`` ``version`` (the
    identification's, not the one served now: feedback may come after a new release)."""
    feedback.labels(verdict, model, version).inc()


def set_model(classifier) -> None:
    """The model this process serves now (None: none)."""
    if classifier is None:
        model_loaded.set(0)
        return
    model_info.labels(classifier.name, classifier.version).set(1)
    model_loaded.set(1)


def count_shadow_shed() -> None:
    shadow_shed.inc()


def count_shadow(challenger_version: str, agreed: bool) -> None:
    shadow_predictions.labels(challenger_version).inc()
    shadow_agreement.labels(challenger_version, "true" if agreed else "false").inc()
