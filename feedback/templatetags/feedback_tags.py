"""{% feedback_form identification %}: the "Is this right?" form under an answer, for any page
that shows one (the identify page's result), without that page's view knowing its fields.
{% live_accuracy name version %}: the share of a model version's answers the visitors confirmed,
for the model card (from CARD_MIN_VERDICTS verdicts on); ``|share``: a share in per cent."""
from django import template

from catmodel.evaluation.text import percent_text
from feedback.forms import FeedbackForm
from feedback.live_accuracy import Version, card_accuracy

register = template.Library()


@register.inclusion_tag("feedback/form.html", takes_context=True)
def feedback_form(context, identification, form=None):
    return {
        "identification": identification,
        "feedback_form": form or FeedbackForm(),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("feedback/live_accuracy.html")
def live_accuracy(name, version):
    """The model card's line on how the version does with visitors: its confirmed share with
    the count and the 95 % interval once it has enough verdicts, else how many it has."""
    return {"accuracy": card_accuracy(Version(str(name), str(version)))}


@register.filter
def share(value) -> str:
    """A share (0..1) as the live-accuracy pages print it: "87.5%", "n/a" when undefined."""
    return percent_text(value)
