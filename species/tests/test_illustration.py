"""The generated portrait (species.illustration): valid SVG for every coat, deterministic."""
from xml.etree import ElementTree

import pytest

from species.illustration import species_svg
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
