"""The identify page: a form that works without JavaScript, and the result on the same page."""
import base64
import io

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from classifier import runtime, services, throttling
from classifier.forms import IdentifyForm
from classifier.inference import ClassifierError, decode_image
from core.errors import AppError
from core.http_errors import error_page

THUMBNAIL_SIZE = 480


def photo_data_url(upload) -> str | None:
    """A small JPEG of the upload, inline in the page: the photo is shown without storing it."""
    try:
        upload.seek(0)
        image = decode_image(upload, min_side=THUMBNAIL_SIZE)
        image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=80)
    except ClassifierError:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


@require_http_methods(["GET", "HEAD", "POST"])
def identify(request):
    context = {
        "model": runtime.status(),
        "max_bytes": settings.UPLOAD_MAX_BYTES,
        "max_mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024),
        "form": IdentifyForm(),
    }
    if request.method != "POST":
        return render(request, "classifier/identify.html", context)

    # The services validate the upload (missing, empty, too large, not an image), so the page
    # and the API give the same answer to the same file. An error is shown on the form itself,
    # with the error's status and headers (Retry-After when rate limited).
    try:
        throttling.check_identify_rate(request)
        upload = request.FILES.get("image")
        context["result"] = services.identify(upload)
        context["photo"] = photo_data_url(upload)
    except AppError as error:
        return error_page(error, "classifier/identify.html", context, request)
    return render(request, "classifier/identify.html", context)
