from django import forms

from species.models import Species
from species.selectors import MAX_QUERY_LENGTH, clean_query, genus_choices


class SpeciesFilterForm(forms.Form):
    """The search box and filters of the species list; invalid values are ignored, not errors."""

    q = forms.CharField(label="Search", required=False, max_length=10_000)
    kind = forms.ChoiceField(
        label="Kind", required=False, choices=[("", "Wild and domestic")] + Species.Kind.choices
    )
    status = forms.ChoiceField(
        label="Conservation status", required=False,
        choices=[("", "Any status")] + Species.Conservation.choices,
    )
    genus = forms.ChoiceField(label="Genus", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["genus"].choices = [("", "Any genus")] + [(g, g) for g in genus_choices()]
        self.fields["q"].widget.attrs.update(
            {"placeholder": "A name or any word", "type": "search",
             "maxlength": MAX_QUERY_LENGTH}
        )

    def filters(self) -> dict:
        """The filters to apply: valid fields only, so a bad link still shows a useful page."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "query": clean_query(data.get("q", "")),
            "kind": data.get("kind", ""),
            "status": data.get("status", ""),
            "genus": data.get("genus", ""),
        }
