"""Reads: how each model version does in production, from the visitors' verdicts (issue 22).

The one computation behind ``manage.py model_report``, the admin page "Models in production"
(feedback/admin_models.py) and the model card's confirmed share ({% live_accuracy %}). Per model
name and version:

- ``identifications``: the answers it gave; ``not_a_cat_share``: the share of them that said
  "not a cat" (a drift signal that needs no verdicts);
- ``feedback``: the verdicts on those answers; ``confirmed``: the ones saying the answer was
  right, with the share's 95 % Wilson interval (catmodel.evaluation.metrics.wilson_interval);
- ``corrections``: the wrong answers by what was answered and what visitors said it is (a
  confusion from feedback);
- ``daily``: the same per UTC day;
- ``drift``: the population stability index of its answers and of its top answers'
  probabilities over the last DRIFT_WINDOW_DAYS against its package's reference profile
  (classifier/drift.py; its own window, whatever ``since_days`` is).

A verdict belongs to the version and the day of the answer it is about (the identification's
``created_at``), so a late verdict never moves to the model served when it arrives, and the
window (``since_days``) selects answers. Withdrawn feedback is deleted and counts no more
(``catsite_feedback_total`` counted it when it came). The JSON is documented in
docs/operations.md ("Models in production"); each version is an object, so sections are added
as keys (``version_report``).
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from catmodel.evaluation.drift import reading
from catmodel.evaluation.metrics import wilson_interval
from classifier.answer import NOT_A_CAT_LABEL
from classifier.drift import drift_by_version
from classifier.models import Identification
from feedback.models import Feedback

# The report's JSON layout; raised when a field changes meaning or goes (added fields keep it).
REPORT_SCHEMA = 1
# The model card shows a version's confirmed share from this many verdicts on: below it the
# interval is wider than +-18 points at a share near 50 %, more noise than news.
CARD_MIN_VERDICTS = 30
# What a correction's true label is when the entry the visitor named was deleted since.
DELETED_ENTRY = None
# Over answers (Identification rows): their verdicts (one at most each), and the "right" ones.
# Not named "feedback": an annotation may not shadow the relation it counts.
VERDICT_COUNTS = {"verdicts": Count("feedback"),
                  "right": Count("feedback", filter=Q(feedback__correct=True))}
SINCE_HELP = "a whole number of days, 1 or more (leave it out for all time)"


@dataclass(frozen=True)
class Version:
    model: str
    version: str


def parse_since(value) -> int | None:
    """A window in days from a command line or a query string: None (or "") for all time, else
    a whole number of days >= 1. ValueError says what is accepted."""
    if value is None or value == "":
        return None
    try:
        days = int(str(value).strip())
    except ValueError:
        raise ValueError(f"{value!r} is not {SINCE_HELP}") from None
    if days < 1:
        raise ValueError(f"{days} is not {SINCE_HELP}")
    return days


def window_start(since_days: int | None, now: datetime.datetime | None = None):
    """The first moment of the last ``since_days`` days (None: all time)."""
    if since_days is None:
        return None
    return (now or timezone.now()) - datetime.timedelta(days=since_days)


def answers_of(version: Version | None = None, since: datetime.datetime | None = None):
    """The identifications (answers) of one version, or of all, given at or after ``since``."""
    answers = Identification.objects.all()
    if version is not None:
        answers = answers.filter(model_name=version.model, model_version=version.version)
    if since is not None:
        answers = answers.filter(created_at__gte=since)
    return answers.order_by()


def share(count: int, total: int) -> float | None:
    return count / total if total else None


def confirmed_section(confirmed: int, feedback: int) -> dict:
    """{count, share, wilson_low, wilson_high}: the share and its 95 % interval are null
    without any verdict."""
    low, high = wilson_interval(confirmed, feedback) if feedback else (None, None)
    return {"count": confirmed, "share": share(confirmed, feedback), "wilson_low": low,
            "wilson_high": high}


def model_report(*, since_days: int | None = None, now: datetime.datetime | None = None) -> dict:
    """Every version that answered in the window, the latest answering first."""
    now = now or timezone.now()
    since = window_start(since_days, now)
    daily = _daily(since)
    corrections = _corrections(since)
    drift = drift_by_version(now=now)
    versions = [version_report(version, since=since, days=days,
                               corrections=corrections.get(version, []),
                               drift=drift.get((version.model, version.version)))
                for version, days in daily.items()]
    versions.sort(key=lambda v: (v["model"], v["version"]))
    versions.sort(key=lambda v: v["last_day"], reverse=True)  # stable: by name within a day
    return {
        "schema": REPORT_SCHEMA,
        "generated_at": now.isoformat(),
        "since_days": since_days,
        "since": since.isoformat() if since else None,
        "days_in": "UTC",
        "versions": versions,
    }


def version_report(version: Version, *, since, days: list[dict], corrections: list[dict],
                   drift: dict | None = None) -> dict:
    """One version's object in the report. ``days``: its daily rows (``_daily``), oldest first;
    ``since``: the window's start (None: all time), for sections that read the answers
    themselves (``answers_of(version, since)``); ``drift``: its entry of drift_by_version (None:
    no answers in the drift window). Further sections are further keys here."""
    identifications = sum(d["identifications"] for d in days)
    not_a_cat = sum(d["not_a_cat"] for d in days)
    feedback = sum(d["feedback"] for d in days)
    confirmed = sum(d["confirmed"]["count"] for d in days)
    return {
        "model": version.model,
        "version": version.version,
        "first_day": days[0]["date"],
        "last_day": days[-1]["date"],
        "identifications": identifications,
        "not_a_cat": not_a_cat,
        "not_a_cat_share": share(not_a_cat, identifications),
        "feedback": feedback,
        "confirmed": confirmed_section(confirmed, feedback),
        "corrections": corrections,
        "daily": days,
        "drift": drift_section(drift),
    }


def drift_section(entry: dict | None) -> dict:
    """A version's drift as the report gives it: both indices (None when there is none), the
    window and its answers, each index's reading (stable, moderate, major) and, without indices,
    why (``note``)."""
    window_days = entry["window_days"] if entry else settings.DRIFT_WINDOW_DAYS
    identifications = entry["identifications"] if entry else 0
    section = {"confidence": entry["confidence"] if entry else None,
               "answers": entry["answers"] if entry else None,
               "window_days": window_days, "identifications": identifications,
               "reference": entry["reference"] if entry else None}
    section["readings"] = {signal: reading(section[signal]) for signal in ("confidence", "answers")
                           if section[signal] is not None}
    if not identifications:
        section["note"] = f"no answers in the last {window_days} day(s)"
    elif section["reference"] is None:
        section["note"] = "no reference profile (its package is not on disk, or has none)"
    elif section["answers"] is None:
        section["note"] = (f"fewer than {settings.DRIFT_MIN_IDENTIFICATIONS} answers in the last "
                           f"{window_days} day(s)")
    else:
        section["note"] = None
    return section


def card_accuracy(version: Version) -> dict:
    """The model card's line: all the version's verdicts, and its confirmed share once it has
    CARD_MIN_VERDICTS (``confirmed`` is None before)."""
    counts = answers_of(version).aggregate(**VERDICT_COUNTS)
    verdicts = counts["verdicts"]
    shown = verdicts >= CARD_MIN_VERDICTS
    return {
        "feedback": verdicts,
        "min_verdicts": CARD_MIN_VERDICTS,
        "confirmed": confirmed_section(counts["right"], verdicts) if shown else None,
    }


def _daily(since) -> dict[Version, list[dict]]:
    """Per version, one row per UTC day it answered on, oldest first (days without answers are
    left out). Two aggregate queries make the whole report, whatever the number of rows."""
    rows = (answers_of(since=since)
            .annotate(day=TruncDate("created_at", tzinfo=datetime.UTC))
            .values("model_name", "model_version", "day")
            .annotate(identifications=Count("pk"), not_a_cat=Count("pk", filter=Q(is_cat=False)),
                      **VERDICT_COUNTS)
            .order_by("model_name", "model_version", "day"))
    daily: dict[Version, list[dict]] = {}
    for row in rows:
        daily.setdefault(Version(row["model_name"], row["model_version"]), []).append({
            "date": row["day"].isoformat(),
            "identifications": row["identifications"],
            "not_a_cat": row["not_a_cat"],
            "not_a_cat_share": share(row["not_a_cat"], row["identifications"]),
            "feedback": row["verdicts"],
            "confirmed": confirmed_section(row["right"], row["verdicts"]),
        })
    return daily


def _corrections(since) -> dict[Version, list[dict]]:
    """Per version, the wrong answers: [{predicted, true_label, count}], most first.
    ``predicted``: the answer as a dataset label (a species slug, ``not-a-cat``), or the
    group's name for an answer above species level ("domestic cat", "lynx"); ``true_label``: the
    visitor's (a slug, ``not-a-cat``), null when that entry was deleted since."""
    wrong = Feedback.objects.filter(correct=False)
    if since is not None:
        wrong = wrong.filter(identification__created_at__gte=since)
    rows = (wrong.values("identification__model_name", "identification__model_version",
                         "identification__is_cat", "identification__predicted_species__slug",
                         "identification__answer__taxon__name", "not_a_cat", "species__slug")
            .annotate(count=Count("pk")).order_by())
    found: dict[Version, dict[tuple, int]] = {}
    for row in rows:
        version = Version(row["identification__model_name"], row["identification__model_version"])
        predicted = _answered(row["identification__is_cat"],
                              row["identification__predicted_species__slug"],
                              row["identification__answer__taxon__name"])
        true_label = NOT_A_CAT_LABEL if row["not_a_cat"] else (row["species__slug"]
                                                               or DELETED_ENTRY)
        pairs = found.setdefault(version, {})
        pairs[predicted, true_label] = pairs.get((predicted, true_label), 0) + row["count"]
    def most_first(item):
        (predicted, true_label), count = item
        return -count, predicted, true_label or ""

    return {
        version: [{"predicted": p, "true_label": t, "count": n}
                  for (p, t), n in sorted(pairs.items(), key=most_first)]
        for version, pairs in found.items()
    }


def _answered(is_cat: bool, species_slug: str | None, group_name) -> str:
    """What an identification answered, as a label (classifier.models.Identification's
    predicted_label, with the group's name where that one is empty)."""
    if not is_cat:
        return NOT_A_CAT_LABEL
    return species_slug or (group_name if isinstance(group_name, str) and group_name else "cat")
