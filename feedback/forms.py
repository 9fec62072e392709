"""The feedback form under an answer on the identify page. It works without JavaScript; the
script (static/js/feedback.js) adds a search box to the species choice and sends the photo again
by itself."""
from django import forms

from classifier.answer import NOT_A_CAT_LABEL
from species.models import Species

YES, NO, UNKNOWN = "true", "false", "unknown"


def species_choices():
    """Every encyclopedia entry, wild species and breeds in groups, after "not a cat"."""
    groups = {kind: [] for kind, _ in Species.Kind.choices}
    for slug, name, kind in Species.objects.order_by("common_name").values_list(
            "slug", "common_name", "kind"):
        groups[kind].append((slug, name))
    return [("", "Choose…"), (NOT_A_CAT_LABEL, "Not a cat"),
            *[(label, groups[kind]) for kind, label in Species.Kind.choices if groups[kind]]]


class FeedbackForm(forms.Form):
    correct = forms.ChoiceField(
        label="Is this right?", widget=forms.RadioSelect,
        choices=[(YES, "Yes, that's right"), (NO, "No, it's a…"), (UNKNOWN, "I don't know")],
        error_messages={"required": "Choose an answer: yes, no or I don't know."},
    )
    species = forms.ChoiceField(label="What it is", required=False)
    share_photo = forms.BooleanField(
        label="Let catsite keep this photo to improve the identifier", required=False)
    image = forms.FileField(
        label="The same photo again", required=False,
        help_text="Needed to keep it: the photo was not stored when it was identified.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}))

    def __init__(self, *args, **kwargs):
        # Its own ids: it shares the result page with the identify form (whose photo is
        # id_image too).
        kwargs.setdefault("auto_id", "feedback_%s")
        super().__init__(*args, **kwargs)
        self.fields["species"].choices = species_choices()

    @property
    def species_group_names(self) -> set[str]:
        """The optgroups of the species choice (wild species, breeds), for the template."""
        return {label for _, label in Species.Kind.choices}

    def clean(self):
        data = super().clean()
        if data.get("correct") == NO and not data.get("species"):
            self.add_error("species", "Choose what it is, or 'Not a cat'.")
        if data.get("correct") != UNKNOWN and data.get("share_photo") and not data.get("image"):
            self.add_error("image", "Choose the same photo again to share it, or untick the box.")
        return data

    @property
    def recorded(self) -> bool:
        """False for "I don't know": that tells us nothing to learn from, so nothing is kept."""
        return self.cleaned_data["correct"] != UNKNOWN

    def verdict(self) -> dict:
        """The service's arguments (feedback_create), as the API takes them."""
        data = self.cleaned_data
        correct = data["correct"] == YES
        stated = "" if correct else data["species"]
        return {
            "correct": correct,
            "species": None if stated in ("", NOT_A_CAT_LABEL) else stated,
            "not_a_cat": stated == NOT_A_CAT_LABEL,
            "share_photo": data["share_photo"],
            "photo": data.get("image") if data["share_photo"] else None,
        }
