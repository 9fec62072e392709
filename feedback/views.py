"""The feedback form's pages: the form under an answer posts here (CSRF-protected), the thanks,
withdrawing, and the page that explains what keeping a photo means."""
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from classifier import throttling
from core.errors import AppError
from core.http_errors import error_page
from feedback import services
from feedback.forms import FeedbackForm

FORM_PAGE = "feedback/feedback_page.html"


@require_http_methods(["GET", "HEAD", "POST"])
def give_feedback(request, identification_id):
    """GET: the form on its own (for an answer seen earlier). POST: record the verdict."""
    identification = services.identification_get(identification_id)  # 404 page if unknown
    if request.method != "POST":
        return render(request, FORM_PAGE, {"identification": identification,
                                           "feedback_form": FeedbackForm()})
    form = FeedbackForm(request.POST, request.FILES)
    context = {"identification": identification, "feedback_form": form}
    try:
        throttling.check_feedback_rate(request)
        if not form.is_valid():
            return render(request, FORM_PAGE, context, status=400)
        if not form.recorded:
            return render(request, "feedback/thanks.html", {"feedback": None})
        feedback = services.feedback_create(identification_id=identification.id,
                                            **form.verdict())
    except AppError as error:
        return error_page(error, FORM_PAGE, context, request)
    return render(request, "feedback/thanks.html", {"feedback": feedback}, status=201)


@require_POST
def withdraw_feedback(request, identification_id=None):
    """Delete an answer and its photo: from the thanks page (the id in the URL), or from the
    explanation page with the reference the thanks page showed."""
    throttling.check_feedback_rate(request)
    identification_id = identification_id or request.POST.get("reference", "").strip()
    deleted = services.feedback_withdraw(identification_id)
    return render(request, "feedback/withdrawn.html", {"deleted": deleted},
                  status=200 if deleted else 404)


@require_safe
def about_photos(request):
    return render(request, "feedback/about_photos.html")
