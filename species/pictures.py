"""The generated illustration of a species, drawn once per species and coat, and the version
that its URL carries so browsers and CDNs may keep it for a year.

The drawing (species.illustration) is a pure function of a few fields and of the drawing code;
the version is a hash of both. An edit to the coat or the name gives the picture a new URL (the
pages that show it are invalidated with it), so no cache ever serves the old picture for the
new coat; a new drawing code changes every version.
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from core.wording import with_article
from species import illustration

# The fields the drawing is made from (the title comes from the common name).
DRAWING_FIELDS = frozenset({
    "slug", "common_name", "coat_pattern", "coat_colour", "marking_colour",
    # The features drawn (species.illustration.features): ear tufts, tail, build, genus.
    "kind", "genus", "weight_max_kg", "ears", "tail",
})
# Read once: the drawing code's own bytes, so a changed drawing gets new URLs.
_DRAWING_CODE = hashlib.sha256(Path(illustration.__file__).read_bytes()).hexdigest()[:12]


def illustration_title(species) -> str:
    """The drawing's title and its alt text: "Illustration of an Abyssinian"."""
    return f"Illustration of {with_article(species.common_name)}"


def _inputs(species) -> tuple:
    weight = None if species.weight_max_kg is None else str(species.weight_max_kg)
    return (species.slug, species.coat_pattern, species.coat_colour, species.marking_colour,
            illustration_title(species), species.kind, species.genus, weight or "",
            species.ears, species.tail)


def illustration_version(species) -> str:
    """A short hash of everything the picture is drawn from."""
    described = "|".join((_DRAWING_CODE, *map(str, _inputs(species))))
    return hashlib.sha256(described.encode()).hexdigest()[:12]


@functools.lru_cache(maxsize=512)
def _draw(slug, coat_pattern, coat_colour, marking_colour, title, kind, genus, weight,
          ears, tail) -> bytes:
    return illustration.species_svg(
        slug=slug, coat_pattern=coat_pattern, coat_colour=coat_colour,
        marking_colour=marking_colour, title=title, kind=kind, genus=genus,
        weight_max_kg=weight or None, ears=ears, tail=tail,
    ).encode()


def illustration_svg(species) -> bytes:
    """The SVG document, drawn on the first call for this species and coat in this process."""
    return _draw(*_inputs(species))
