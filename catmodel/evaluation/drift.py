"""Drift against a reference: what a model's answers looked like on its evaluation split (the
reference profile, kept in the package manifest) beside what they look like on live traffic,
compared by the population stability index. Pure Python (numpy): no Django, no model.

A profile holds two distributions of one set of photos:

- ``confidence_shares``: the share of photos whose top answer's probability falls in each bin of
  ``confidence_bins`` (fixed edges; bin i is (edges[i], edges[i+1]], the first also holds 0);
- ``answer_shares``: the share of photos per answer, by the answer as the site gives it (an
  entry's slug, a group's scientific name such as "Felis catus", or ``not_a_cat``).

What "answer" and "top answer's probability" mean is the caller's: the site's own rule
(classifier/answer.py) reads both the evaluation photos and the live ones, so the two profiles
are counted the same way. In the manifest, under ``reference_profile``:

    {"split": "test", "dataset_sha256": "...", "count": 120, "cat_threshold": 0.5,
     "confidence_bins": [0.0, 0.1, ..., 0.99, 1.0], "confidence_shares": [...],
     "answer_shares": {"maine-coon": 0.4, "not_a_cat": 0.35, "Felis catus": 0.25}}

A package made before profiles existed has none: ``reference_of`` gives None ("no reference").
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from catmodel.inference.package import MANIFEST, SIGNATURE_FILE, parse_manifest, read_manifest

# The manifest key the reference profile is recorded under.
PROFILE_KEY = "reference_profile"
# The bins of the top answer's probability: the buckets of catsite_prediction_confidence
# (classifier/metrics.py takes them from here), finer near 1 where a sure model's answers are.
CONFIDENCE_EDGES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
# A share of 0 (a bin no photo fell in, an answer one side never gave) would make the index
# infinite: each share is taken as at least this. 1e-4 is one photo in 10 000; an answer the
# reference never gave that takes 5 % of live answers then adds (0.05 - 1e-4) ln(0.05 / 1e-4),
# about 0.31 on its own: a new answer is drift, and says so.
EPSILON = 1e-4
# The usual reading of the index (Siddiqi, "Credit Risk Scorecards", 2006; Yurdakul, 2018):
# below 0.1 no significant change, 0.1 to 0.2 a moderate one worth a look, above 0.2 a major
# shift (the alert's threshold, deploy/helm).
PSI_MODERATE = 0.1
PSI_MAJOR = 0.2


@dataclass(frozen=True)
class Profile:
    """The distributions of the top answer's probability and of the answers over ``count``
    photos (see the module's docstring)."""

    count: int
    confidence_bins: list[float]
    confidence_shares: list[float]
    answer_shares: dict[str, float]
    split: str | None = None            # the evaluation split, for a reference
    dataset_sha256: str | None = None
    cat_threshold: float | None = None

    def as_dict(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value is not None}

    @classmethod
    def from_dict(cls, document: Mapping) -> Profile:
        """A recorded profile; ValueError when it is not one (wrong shapes or numbers)."""
        try:
            bins = [float(edge) for edge in document["confidence_bins"]]
            shares = [float(share) for share in document["confidence_shares"]]
            answers = {str(key): float(share) for key, share in document["answer_shares"].items()}
            count = int(document["count"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"not a reference profile ({exc.__class__.__name__}: {exc})") from None
        if len(bins) < 2 or len(shares) != len(bins) - 1 or bins != sorted(bins):
            raise ValueError("not a reference profile: confidence_shares needs one share per "
                             "bin of confidence_bins (sorted edges)")
        return cls(count=count, confidence_bins=bins, confidence_shares=shares,
                   answer_shares=answers, split=document.get("split"),
                   dataset_sha256=document.get("dataset_sha256"),
                   cat_threshold=document.get("cat_threshold"))


def confidence_shares(confidences: Iterable[float],
                      edges: Sequence[float] = CONFIDENCE_EDGES) -> list[float]:
    """The share of ``confidences`` in each bin of ``edges`` (bin i: (edges[i], edges[i+1]];
    values outside [edges[0], edges[-1]] count in the first or last bin). Zeros when empty."""
    values = np.asarray(list(confidences), dtype=np.float64)
    bins = len(edges) - 1
    if values.size == 0:
        return [0.0] * bins
    index = np.clip(np.searchsorted(np.asarray(edges[1:-1], dtype=np.float64), values,
                                    side="left"), 0, bins - 1)
    return (np.bincount(index, minlength=bins) / values.size).tolist()


def answer_shares(answers: Iterable[str]) -> dict[str, float]:
    """The share of each answer, most frequent first (ties by name)."""
    counts = Counter(answers)
    total = sum(counts.values())
    return {answer: n / total
            for answer, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))}


def profile(answers: Sequence[str], confidences: Sequence[float], *,
            edges: Sequence[float] = CONFIDENCE_EDGES, **about) -> Profile:
    """The profile of photos given as their answers and their top answers' probabilities (in
    the same order); ``about``: split, dataset_sha256, cat_threshold."""
    if len(answers) != len(confidences):
        raise ValueError(f"{len(answers)} answers but {len(confidences)} confidences")
    return Profile(count=len(answers), confidence_bins=[float(edge) for edge in edges],
                   confidence_shares=confidence_shares(confidences, edges),
                   answer_shares=answer_shares(answers), **about)


def psi(expected: Sequence[float] | Mapping[str, float],
        actual: Sequence[float] | Mapping[str, float], epsilon: float = EPSILON) -> float:
    """The population stability index of ``actual`` against ``expected``:
    sum over bins of (a - e) * ln(a / e), each share taken as at least ``epsilon``. Shares per
    bin (two sequences of one length) or per category (two mappings; a category one side lacks
    has a share of 0 there). 0 for identical distributions; symmetric in its two arguments."""
    e: list[float]
    a: list[float]
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        keys = sorted(set(expected) | set(actual))
        e = [expected.get(key, 0.0) for key in keys]
        a = [actual.get(key, 0.0) for key in keys]
    elif isinstance(expected, Mapping) or isinstance(actual, Mapping):
        raise TypeError("compare shares per bin with shares per bin, per category with per "
                        "category")
    else:
        if len(expected) != len(actual):
            raise ValueError(f"{len(expected)} expected shares but {len(actual)} actual ones")
        e, a = list(expected), list(actual)
    total = 0.0
    for e_share, a_share in zip(e, a, strict=True):
        e_share, a_share = max(float(e_share), epsilon), max(float(a_share), epsilon)
        total += (a_share - e_share) * math.log(a_share / e_share)
    return total


def reading(index: float) -> str:
    """What an index says: ``stable`` (below PSI_MODERATE), ``moderate`` (up to PSI_MAJOR) or
    ``major`` (above it: the alert)."""
    if index > PSI_MAJOR:
        return "major"
    return "moderate" if index >= PSI_MODERATE else "stable"


def drift(reference: Profile, live: Profile) -> dict[str, float]:
    """The index of both signals of ``live`` against ``reference`` (same bins needed)."""
    if list(reference.confidence_bins) != list(live.confidence_bins):
        raise ValueError("the live profile must use the reference's confidence bins")
    return {"confidence": psi(reference.confidence_shares, live.confidence_shares),
            "answers": psi(reference.answer_shares, live.answer_shares)}


def reference_of(manifest_raw: Mapping) -> Profile | None:
    """The reference profile a manifest records, or None when it has none (a package made
    before profiles, or by hand) or what it has is not one."""
    document = manifest_raw.get(PROFILE_KEY)
    if not isinstance(document, Mapping):
        return None
    try:
        return Profile.from_dict(document)
    except ValueError:
        return None


class PackageSigned(Exception):
    """The package carries a signature over its manifest: changing the manifest would void it."""


def record_profile(package_dir, reference: Profile | Mapping) -> Path:
    """Write ``reference`` into the package's manifest (under PROFILE_KEY, replacing one there)
    and return the manifest's path. The manifest lists the package's files with their hashes
    but not itself, so the package stays valid; a signed package (model.sig signs the manifest
    too) is left as it is: PackageSigned. The new manifest is written beside the package (a
    file inside it that the manifest does not list would make it invalid) and renamed over the
    old one, so a reader sees one or the other."""
    package_dir = Path(package_dir)
    if not isinstance(reference, Profile):
        reference = Profile.from_dict(reference)
    if (package_dir / SIGNATURE_FILE).exists():
        raise PackageSigned(f"{package_dir} is signed ({SIGNATURE_FILE} covers {MANIFEST})")
    manifest = read_manifest(package_dir)
    data = parse_manifest(json.dumps({**manifest.raw, PROFILE_KEY: reference.as_dict()})
                          ).to_bytes()
    target = (package_dir / MANIFEST).resolve()
    handle, temporary = tempfile.mkstemp(prefix=f".{MANIFEST}.", dir=target.parent.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, os.stat(target).st_mode & 0o777)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


__all__ = ["CONFIDENCE_EDGES", "EPSILON", "PROFILE_KEY", "PSI_MAJOR", "PSI_MODERATE",
           "PackageSigned", "Profile", "answer_shares", "confidence_shares", "drift", "profile",
           "psi", "reading", "record_profile", "reference_of"]
