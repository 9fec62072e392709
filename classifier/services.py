"""Identification at the Django boundary: the upload in, an answer about cats out (the answer
itself: answer.py). Every outcome is counted and logged; a sampled share goes to the shadow.
"""
from django.conf import settings

from catmodel.inference import (
    ClassifierError,
    FileTooLarge,
    ImageClassifier,
    InvalidImage,
    decode_image,
)
from classifier import metrics, runtime, shadow
from classifier.answer import Answer, summarise, timings_ms
from core import logs
from core.errors import AppError


def check_upload_size(size: int | None) -> None:
    if size is not None and size > settings.UPLOAD_MAX_BYTES:
        raise FileTooLarge(size=size, limit=settings.UPLOAD_MAX_BYTES)


def identify(upload, keep_image: bool = False) -> Answer:
    """Identify the cat in an uploaded file (a Django UploadedFile, or any binary file object).
    ``keep_image``: keep the decoded photo on the answer (the page shows it; one decode).

    Raises a ClassifierError subclass (with its HTTP status and message) for bad input or a
    missing model; the upload is read in memory or from Django's private temp file and never
    written anywhere public. Every outcome is counted (classifier/metrics.py) and logged with
    the request (core/logs.py); a sampled share goes to the challenger (classifier/shadow.py).
    """
    try:
        answer = _identify(upload, keep_image)
    except AppError as error:
        name, version = runtime.served_model()
        metrics.count_failed_identification(error.code, name, version)
        logs.annotate(model=name, model_version=version, answer=error.code)
        raise
    metrics.count_identification(answer)
    # The request's log line: what was answered, never the photo.
    logs.annotate(
        model=answer.model_name, model_version=answer.model_version,
        answer=answer.answer_key, top_label=answer.best.label,
        cat_probability=round(answer.cat_probability, 4),
        timings_ms={stage: round(ms, 2) for stage, ms in answer.timings_ms.items()})
    shadow.get().submit(upload, answer)  # maybe, for the challenger; never waits
    return answer


def _identify(upload, keep_image: bool) -> Answer:
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
    answer = summarise(result, timings_ms(result))
    answer.image = image
    return answer


# The shorter side a photo is decoded at for display when no local model decoded it.
DISPLAY_MIN_SIDE = 256


def decoded_for_display(upload):
    """The upload decoded small for the page, or None when it cannot be (the service accepted
    it, so this is rare; the answer stands without the picture)."""
    try:
        upload.seek(0)
        return decode_image(upload, min_side=DISPLAY_MIN_SIDE, **runtime.upload_decode_limits())
    except ClassifierError:
        return None
