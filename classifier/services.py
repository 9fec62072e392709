"""Identification at the Django boundary: the upload in, an answer about species out.

The inference package knows labels and probabilities; this module knows species. It adds up
the probabilities of the labels each species owns (admin-editable ModelLabel rows), counts
labels owned by no species as "not a cat", and decides "cat or not" with settings.CAT_THRESHOLD.
A new model works without code changes: only its labels and their links change.
"""
from dataclasses import dataclass, field

from django.conf import settings

from classifier import metrics, runtime, shadow
from classifier.inference import FileTooLarge, InvalidImage
from core import logs
from core.errors import AppError
from species.models import ModelLabel, Species


@dataclass
class Prediction:
    probability: float
    label: str                      # the species' name, or the model label when no species owns it
    species: Species | None = None
    labels: list[str] = field(default_factory=list)   # model labels that were added up

    @property
    def percent(self) -> float:
        return round(self.probability * 100, 1)


@dataclass
class Identification:
    is_cat: bool
    cat_probability: float
    predictions: list[Prediction]   # best first, top-k
    model_name: str
    model_version: str
    timings_ms: dict

    @property
    def cat_percent(self) -> float:
        return round(self.cat_probability * 100, 1)

    @property
    def best(self) -> Prediction:
        return self.predictions[0]

    @property
    def best_species(self) -> Species | None:
        return self.best.species if self.is_cat else None

    @property
    def answer(self) -> str:
        """The answer in one word: the best cat species' slug, or "not_a_cat"."""
        best = self.best_species
        return best.slug if best is not None else "not_a_cat"

    @property
    def looks_like(self) -> Prediction | None:
        """When it is not a cat: the best guess that is not a cat species."""
        return next((p for p in self.predictions if p.species is None), None)


def check_upload_size(size: int | None) -> None:
    if size is not None and size > settings.UPLOAD_MAX_BYTES:
        raise FileTooLarge(size=size, limit=settings.UPLOAD_MAX_BYTES)


def identify(upload) -> Identification:
    """Identify the cat in an uploaded file (a Django UploadedFile, or any binary file object).

    Raises a ClassifierError subclass (with its HTTP status and message) for bad input or a
    missing model; the upload is read in memory or from Django's private temp file and never
    written anywhere public. Every outcome is counted (classifier/metrics.py).
    """
    try:
        identification = _identify(upload)
    except AppError as error:
        name, version = runtime.served_model()
        metrics.count_failed_identification(error.code, name, version)
        logs.annotate(model=name, model_version=version, answer=error.code)
        raise
    metrics.count_identification(identification)
    # The request's log line (core/logs.py): what was answered, never the photo.
    logs.annotate(
        model=identification.model_name, model_version=identification.model_version,
        answer=identification.answer,
        top_label=identification.best.label,
        cat_probability=round(identification.cat_probability, 4),
        timings_ms={stage: round(ms, 2) for stage, ms in identification.timings_ms.items()})
    shadow.get().submit(upload, identification)  # maybe, for the challenger; never waits
    return identification


def _identify(upload) -> Identification:
    if upload is None:
        raise InvalidImage("No photo was sent. Choose a photo of a cat and try again.")
    size = getattr(upload, "size", None)
    check_upload_size(size)
    if size == 0:
        raise InvalidImage("The file is empty. Choose a photo of a cat and try again.")
    classifier = runtime.get()
    upload.seek(0)
    result = classifier.classify(upload)
    return summarise(result, timings_ms(result))


def timings_ms(result) -> dict:
    """A classification's timings by stage, in milliseconds."""
    timings = result.timings
    return {
        "decode": timings.decode_ms,
        "preprocess": timings.preprocess_ms,
        "inference": timings.inference_ms,
        "total": timings.total_ms,
    }


def summarise(result, timings_ms) -> Identification:
    """A classification (per-label probabilities, indexed like its labels) -> the answer about
    species. The labels and the model come from the classification itself: with a model
    service (INFERENCE_URL) each answer names the model version that computed it."""
    labels, probabilities = result.labels, result.probabilities
    # Every ModelLabel row is owned by a species, so the table is small (the cat labels): read
    # it whole. Filtering on the model's 1000 labels instead (label IN (...)) cost about 13 ms a
    # request on SQLite, more than the inference itself (bench/run.py).
    known = set(labels)
    owners = {
        row.label: row.species
        for row in ModelLabel.objects.select_related("species").order_by()
        if row.label in known
    }
    by_species: dict[int, Prediction] = {}
    others: list[Prediction] = []
    for label, probability in zip(labels, probabilities.tolist(), strict=True):
        species = owners.get(label)
        if species is None:
            others.append(Prediction(probability=probability, label=label, labels=[label]))
            continue
        entry = by_species.setdefault(
            species.pk, Prediction(probability=0.0, label=species.common_name, species=species)
        )
        entry.probability += probability
        entry.labels.append(label)
    cat_probability = sum(p.probability for p in by_species.values())
    ranked = sorted([*by_species.values(), *others], key=lambda p: p.probability, reverse=True)
    return Identification(
        is_cat=cat_probability >= settings.CAT_THRESHOLD,
        cat_probability=cat_probability,
        predictions=ranked[: settings.CLASSIFIER_TOP_K],
        model_name=result.model_name,
        model_version=result.model_version,
        timings_ms=timings_ms,
    )
