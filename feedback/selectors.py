"""Reads: what the dataset is made of, and what the next model could learn."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from feedback import photos
from feedback.models import Feedback
from species.models import Species

EXPORT_STATUSES = ("accepted", "all")


@dataclass(frozen=True)
class Example:
    """One labelled photo for the dataset, read lazily (exports can be large)."""

    label: str
    source: str                  # where it comes from, for messages: "feedback 12", "species lion"
    read: Callable[[], bytes]    # the photo's bytes (re-encoded by the export)
    # The splits it may go to, chosen by its hash (feedback/dataset.py split_for); None: any.
    # An imported dataset's own splits (the Oxford-IIIT Pet test list: ("test",)).
    splits: tuple[str, ...] | None = None


def feedback_for_dataset(status: str = "accepted"):
    """Feedback with a kept photo and a label. ``accepted``: reviewed and accepted; ``all``: also
    those still pending. Rejected photos are never part of a dataset."""
    if status not in EXPORT_STATUSES:
        raise ValueError(f"status must be one of {', '.join(EXPORT_STATUSES)}, not {status!r}")
    feedbacks = Feedback.objects.with_photo().select_related(
        "species", "identification__predicted_species")
    if status == "accepted":
        return feedbacks.accepted()
    return feedbacks.exclude(status=Feedback.Status.REJECTED)


def dataset_examples(status: str = "accepted") -> list[Example]:
    """Every labelled photo: kept feedback photos, and the species photos uploaded in admin (an
    editor chose each one for its entry, so it is a labelled example too)."""
    examples = [
        Example(label=f.label, source=f"feedback {f.pk}",
                read=lambda name=f.photo: photos.read(name))
        for f in feedback_for_dataset(status).order_by("pk")
        if f.label
    ]
    for species in Species.objects.exclude(image="").order_by("slug"):
        examples.append(Example(label=species.slug, source=f"species photo {species.slug}",
                                read=lambda image=species.image: _read_field_file(image)))
    return examples


def _read_field_file(field_file) -> bytes:
    with field_file.open("rb") as opened:
        return opened.read()


def accepted_photo_counts() -> list[tuple[str, int]]:
    """(label, number of accepted photos) for every label that has any, most first: what the
    next model could learn from feedback."""
    counts = Counter(f.label for f in feedback_for_dataset("accepted") if f.label)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
