"""``{% load wording %}``: ``{{ name|with_article }}`` gives "an Abyssinian" (core/wording.py)."""
from django import template

from core import wording

register = template.Library()


@register.filter
def with_article(phrase) -> str:
    # Autoescaping still applies: the filter returns plain text, not markup.
    return wording.with_article(str(phrase))
