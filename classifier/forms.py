from django import forms

from catmodel.inference import ACCEPTED_FORMATS


class IdentifyForm(forms.Form):
    image = forms.FileField(
        label="Photo of a cat",
        help_text="A photo from your camera or your files: " + ", ".join(ACCEPTED_FORMATS) + ".",
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )
