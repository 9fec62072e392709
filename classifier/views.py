"""The identify page: a form that works without JavaScript, and the result on the same page."""
import base64
import io

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from classifier import records, runtime, services, throttling
from classifier.api import identification_json
from classifier.forms import IdentifyForm
from core.errors import AppError
from core.http_errors import error_page

THUMBNAIL_SIZE = 480


def photo_data_url(image) -> str | None:
    """A small JPEG of the decoded photo, inline in the page: the photo is shown without storing
    it, and without decoding the upload a second time (the model's decode is reused: it is
    already upright RGB, reduced to about the model's size)."""
    if image is None:
        return None
    thumbnail = image.copy()
    thumbnail.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    buffer = io.BytesIO()
    thumbnail.save(buffer, "JPEG", quality=80)
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
        context["result"] = services.identify(upload, keep_image=True)
        context["photo"] = photo_data_url(context["result"].image)
        # An id for the feedback form under the answer (the photo's hash kept, not the photo).
        context["identification"] = records.identification_create(
            photo=upload, answer=identification_json(request, context["result"]),
            species=context["result"].best_species)
    except AppError as error:
        return error_page(error, "classifier/identify.html", context, request)
    return render(request, "classifier/identify.html", context)
