"""Identification at the Django boundary: the upload in, an answer about cats out.

The inference package knows labels and probabilities; this module knows the encyclopedia. Each
label belongs to one owner (a species, a breed, or a group such as the genus Lynx or the
domestic cat: admin-editable ModelLabel rows); labels without one are "not a cat". The
probabilities add up the cat family tree (species.taxonomy) and the answer is the most specific
level that reaches settings.CAT_THRESHOLD: a species or breed when the model is sure of it, else
a genus, "domestic cat" or a subfamily with its candidates. A new model works without code
changes: only its labels and their links change.
"""
from dataclasses import dataclass, field

from django.conf import settings

from classifier import metrics, runtime, shadow
from classifier.inference import (
    ClassifierError,
    FileTooLarge,
    ImageClassifier,
    InvalidImage,
    decode_image,
)
from core import logs
from core.errors import AppError
from species.answer_levels import Level, label_owners, lineage_of, resolve
from species.models import Species, Taxon
from species.taxonomy import FAMILY, Node, most_specific, sum_up

# Labels below this probability say nothing about which breeds or species a photo resembles.
EVIDENCE_MIN = 0.05
# A cat below this share is not worth a bar on the answer (0.1 % Siamese on a tabby's answer
# reads as a claim).
GUESS_MIN = 0.01


def percent(probability: float) -> float:
    """A probability as the page shows it: in per cent, one decimal. The one rounding of every
    number and bar on the answer, so a sentence and its bar never disagree."""
    return round(probability * 100, 1)


@dataclass
class Prediction:
    probability: float
    label: str                      # the owner's name, or the model label when nobody owns it
    species: Species | None = None  # when the owner is an encyclopedia entry
    taxon: Taxon | None = None      # when the owner is a group (a genus, the domestic cat)
    labels: list[str] = field(default_factory=list)   # model labels that were added up

    @property
    def percent(self) -> float:
        return percent(self.probability)

    @property
    def is_cat(self) -> bool:
        return self.species is not None or self.taxon is not None


@dataclass
class Identification:
    is_cat: bool
    cat_probability: float
    predictions: list[Prediction]   # best first, top-k
    model_name: str
    model_version: str
    timings_ms: dict
    # The most specific level whose probability reaches the threshold; None when not a cat.
    answer: Level | None = None
    answer_probability: float = 0.0
    image: object = None  # the decoded photo (PIL image) when identify() was asked to keep it
    # What the page lists: the cats first (top-k, each at least GUESS_MIN), then, only when
    # it is not a cat, the other things the model saw (top-k of the labels nobody owns).
    cat_guesses: list[Prediction] = field(default_factory=list)
    other_guesses: list[Prediction] = field(default_factory=list)

    @property
    def cat_percent(self) -> float:
        return percent(self.cat_probability)

    @property
    def answer_percent(self) -> float:
        return percent(self.answer_probability)

    @property
    def best(self) -> Prediction:
        return self.predictions[0]

    @property
    def best_species(self) -> Species | None:
        """The encyclopedia entry, only when the answer is one species or breed."""
        return self.answer.entry if self.answer is not None else None

    @property
    def answer_key(self) -> str:
        """The answer in one word, for metrics, logs and the shadow's agreement: the entry's
        slug, else the level's scientific name ("Lynx", "Felis catus"), or "not_a_cat"."""
        if self.answer is None:
            return "not_a_cat"
        return self.answer.entry.slug if self.answer.entry is not None else (
            self.answer.scientific_name)

    @property
    def looks_like(self) -> Prediction | None:
        """When it is not a cat: the best guess that is not a cat."""
        return next((p for p in self.predictions if not p.is_cat), None)


def check_upload_size(size: int | None) -> None:
    if size is not None and size > settings.UPLOAD_MAX_BYTES:
        raise FileTooLarge(size=size, limit=settings.UPLOAD_MAX_BYTES)


def identify(upload, keep_image: bool = False) -> Identification:
    """Identify the cat in an uploaded file (a Django UploadedFile, or any binary file object).
    ``keep_image``: keep the decoded photo on the answer (the page shows it; one decode).

    Raises a ClassifierError subclass (with its HTTP status and message) for bad input or a
    missing model; the upload is read in memory or from Django's private temp file and never
    written anywhere public. Every outcome is counted (classifier/metrics.py) and logged with
    the request (core/logs.py); a sampled share goes to the challenger (classifier/shadow.py).
    """
    try:
        identification = _identify(upload, keep_image)
    except AppError as error:
        name, version = runtime.served_model()
        metrics.count_failed_identification(error.code, name, version)
        logs.annotate(model=name, model_version=version, answer=error.code)
        raise
    metrics.count_identification(identification)
    # The request's log line: what was answered, never the photo.
    logs.annotate(
        model=identification.model_name, model_version=identification.model_version,
        answer=identification.answer_key, top_label=identification.best.label,
        cat_probability=round(identification.cat_probability, 4),
        timings_ms={stage: round(ms, 2) for stage, ms in identification.timings_ms.items()})
    shadow.get().submit(upload, identification)  # maybe, for the challenger; never waits
    return identification


def _identify(upload, keep_image: bool) -> Identification:
    if upload is None:
        raise InvalidImage("No photo was sent. Choose a photo of a cat and try again.")
    size = getattr(upload, "size", None)
    check_upload_size(size)
    if size == 0:
        raise InvalidImage("The file is empty. Choose a photo of a cat and try again.")
    classifier = runtime.get()
    upload.seek(0)
    if isinstance(classifier, ImageClassifier):
        result = classifier.classify(upload, keep_image=keep_image)
        image = result.image
    else:
        # A model service (INFERENCE_URL) decodes the photo in its own process: the page's
        # thumbnail is then this process's one decode.
        result = classifier.classify(upload)
        image = decoded_for_display(upload) if keep_image else None
    identification = summarise(result, timings_ms(result))
    identification.image = image
    return identification


# The shorter side a photo is decoded at for display when no local model decoded it.
DISPLAY_MIN_SIDE = 256


def decoded_for_display(upload):
    """The upload decoded small for the page, or None when it cannot be (the service accepted
    it, so this is rare; the answer stands without the picture)."""
    try:
        upload.seek(0)
        return decode_image(upload, min_side=DISPLAY_MIN_SIDE)
    except ClassifierError:
        return None


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
    cats. The labels and the model come from the classification itself: with a model service
    (INFERENCE_URL) each answer names the model version that computed it."""
    labels, probabilities = result.labels, result.probabilities
    owners = label_owners(labels)  # one query, whatever the model's label count
    by_label = dict(zip(labels, probabilities.tolist(), strict=True))
    lineages = {label: lineage_of(owner) for label, owner in owners.items()}
    totals = sum_up(by_label, lineages)
    node = most_specific(totals, settings.CAT_THRESHOLD)

    # The top-k list: each owner with the labels at or below it added up (the group "domestic
    # cat" counts its breeds' labels too, as the answer does), and the labels nobody owns.
    by_owner: dict[Node, Prediction] = {}
    for label, owner in owners.items():
        owner_node = lineages[label][0]
        if owner_node not in by_owner:
            by_owner[owner_node] = Prediction(
                probability=totals[owner_node], label=owner.common_name,
                species=owner if isinstance(owner, Species) else None,
                taxon=owner if isinstance(owner, Taxon) else None,
                labels=[other for other, path in lineages.items() if owner_node in path],
            )
    others = [Prediction(probability=p, label=label, labels=[label])
              for label, p in by_label.items() if label not in owners]
    ranked = sorted([*by_owner.values(), *others], key=lambda p: p.probability, reverse=True)
    top_k = settings.CLASSIFIER_TOP_K
    cats = [p for p in ranked if p.is_cat and p.probability >= GUESS_MIN]
    return Identification(
        is_cat=node is not None,
        cat_probability=totals.get(Node("family", FAMILY), 0.0),
        predictions=ranked[:top_k],
        cat_guesses=cats[:top_k],
        other_guesses=[] if node is not None else [p for p in ranked if not p.is_cat][:top_k],
        model_name=result.model_name,
        model_version=result.model_version,
        timings_ms=timings_ms,
        answer=None if node is None else resolve(node, owners, evidence=[
            label for label, path in lineages.items()
            if node in path and by_label[label] >= EVIDENCE_MIN
        ]),
        answer_probability=totals[node] if node is not None else 0.0,
    )
