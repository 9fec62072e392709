"""Words in sentences the site builds from names: the indefinite article ("an Abyssinian", "a
European wildcat", "a mortarboard"). Every phrase "a <name>" goes through ``with_article`` (in
templates: ``{{ name|with_article }}``, core/templatetags/wording.py), so no page or alt text
says "a Abyssinian".

The choice of "a" or "an" is inflect's (a well-kept library): it goes by sound, not by letter
("a European", "an hour"), which a vowel test gets wrong.
"""
from functools import cache

# Nouns used only in the plural take no article ("like binoculars", not "like a binoculars").
# inflect decides a/an but cannot tell these from singulars ending in s ("a platypus", "a
# school bus"), so the few among the names the site shows are listed: ImageNet's labels.
PLURAL_ONLY = frozenset({"binoculars", "sunglasses", "trunks", "bars"})


@cache
def _engine():
    import inflect  # the engine builds its word lists once

    return inflect.engine()


def with_article(phrase: str) -> str:
    """The phrase with "a" or "an" before it: "an African golden cat", "a lynx". Plural-only
    nouns ("parallel bars") and an empty phrase are returned as they are."""
    phrase = phrase.strip()
    if not phrase or phrase.rsplit(" ", 1)[-1].lower() in PLURAL_ONLY:
        return phrase
    return _engine().a(phrase)
