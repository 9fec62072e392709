"""The article before a name: by sound, not by letter, in code and in templates alike."""
import pytest
from django.template import Context, Template

from core.wording import with_article


@pytest.mark.parametrize("phrase, expected", [
    ("Abyssinian", "an Abyssinian"),
    ("African golden cat", "an African golden cat"),
    ("Iberian lynx", "an Iberian lynx"),
    ("ocelot", "an ocelot"),
    ("Oriental Shorthair cat", "an Oriental Shorthair cat"),
    ("European wildcat", "a European wildcat"),   # a vowel letter, a consonant sound
    ("Eurasian lynx", "a Eurasian lynx"),
    ("unicycle", "a unicycle"),
    ("hourglass", "an hourglass"),               # a consonant letter, a vowel sound
    ("mortarboard", "a mortarboard"),
    ("espresso", "an espresso"),
    ("lynx", "a lynx"),
    ("school bus", "a school bus"),               # singular, though it ends in s
    ("binoculars", "binoculars"),                 # plural only: no article
    ("swimming trunks", "swimming trunks"),
    ("  Maine Coon ", "a Maine Coon"),
    ("", ""),
])
def test_the_article_goes_by_sound(phrase, expected):
    assert with_article(phrase) == expected


def test_the_template_filter_is_the_same_helper_and_escapes():
    template = Template(
        '{% load wording %}{{ name|with_article }}|{{ breed|add:" cat"|with_article }}')
    rendered = template.render(Context({"name": "Abyssinian <i>", "breed": "Egyptian Mau"}))
    assert rendered == "an Abyssinian &lt;i&gt;|an Egyptian Mau cat"
