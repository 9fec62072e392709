"""The generated portrait (species.illustration): valid SVG for every coat, deterministic."""
import json
from pathlib import Path
from xml.etree import ElementTree

import pytest

from species.illustration import AMBER_EYES, BLUE_EYES, _mix, species_svg
from species.models import Species

SVG_NS = "{http://www.w3.org/2000/svg}"


def draw(**changes):
    args = {"slug": "test-cat", "coat_pattern": "plain", "coat_colour": "#c8a165",
            "marking_colour": "#3b2a1a", "title": "Illustration of a Test cat"}
    args.update(changes)
    return species_svg(**args)


@pytest.mark.parametrize("pattern", Species.CoatPattern.values)
def test_every_coat_pattern_draws_valid_svg(pattern):
    root = ElementTree.fromstring(draw(coat_pattern=pattern))
    assert root.tag == f"{SVG_NS}svg" and root.get("viewBox") == "0 0 200 200"


def test_patterns_draw_different_markings():
    drawings = {draw(coat_pattern=p) for p in Species.CoatPattern.values}
    assert len(drawings) == len(Species.CoatPattern.values)


def test_the_same_species_always_gets_the_same_picture():
    assert draw(coat_pattern="spotted") == draw(coat_pattern="spotted")
    assert draw(coat_pattern="spotted", slug="other") != draw(coat_pattern="spotted")


def test_the_coat_colours_are_used():
    svg = draw(coat_colour="#123456", marking_colour="#abcdef", coat_pattern="striped")
    assert 'fill="#123456"' in svg and 'stroke="#abcdef"' in svg


def test_the_title_is_escaped():
    svg = draw(title='Illustration of a <Tom & "Jerry">')
    root = ElementTree.fromstring(svg)
    assert root.find(f"{SVG_NS}title").text == 'Illustration of a <Tom & "Jerry">'
    assert root.get("aria-label") == 'Illustration of a <Tom & "Jerry">'


def iris_colours(svg: str) -> set[tuple[str, ...]]:
    """The centre colours of the two eyes' gradients."""
    root = ElementTree.fromstring(svg)
    stops = []
    for gradient in root.iter(f"{SVG_NS}radialGradient"):
        if gradient.get("id", "").startswith("iris"):
            stops.append(gradient.find(f"{SVG_NS}stop").get("stop-color"))
    return tuple(stops)


def test_the_van_pattern_has_no_colour_point_mask_and_a_coloured_cap_and_tail():
    svg = draw(coat_pattern="van", coat_colour="#f6f2ea", marking_colour="#b3582a")
    assert "url(#mask)" not in svg
    assert draw(coat_pattern="pointed").count("url(#mask)") == 1
    # The cap (two patches on the crown) and the tail are in the marking colour.
    assert svg.count('fill="#b3582a"') >= 2 and 'stroke="#b3582a"' in svg


def test_van_eyes_are_amber_blue_or_odd():
    def centre(colour):
        return _mix(colour, "#ffffff", 0.35)

    allowed = {
        (centre(AMBER_EYES),) * 2, (centre(BLUE_EYES),) * 2,
        (centre(BLUE_EYES), centre(AMBER_EYES)),
    }
    seen = {iris_colours(draw(coat_pattern="van", slug=f"van-{n}")) for n in range(40)}
    assert seen == allowed  # every one of the three, and nothing else


def test_the_turkish_van_is_drawn_with_the_van_pattern():
    breeds = json.loads((Path(__file__).parents[1] / "data" / "breeds.json").read_text())
    assert next(b for b in breeds if b["slug"] == "turkish-van")["coat_pattern"] == "van"
