"""{% feedback_form identification %}: the "Is this right?" form under an answer, for any page
that shows one (the identify page's result), without that page's view knowing its fields."""
from django import template

from feedback.forms import FeedbackForm

register = template.Library()


@register.inclusion_tag("feedback/form.html", takes_context=True)
def feedback_form(context, identification, form=None):
    return {
        "identification": identification,
        "feedback_form": form or FeedbackForm(),
        "csrf_token": context.get("csrf_token"),
    }
