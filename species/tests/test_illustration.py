"""The generated portrait (species.illustration): valid SVG for every coat, deterministic."""
import itertools
import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest

from species import content
from species.illustration import AMBER_EYES, BLUE_EYES, _mix, features, species_svg
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


def entry_svg(slug):
    entry = next(e for e in content.read_entries() if e["slug"] == slug)
    return species_svg(
        slug=slug, coat_pattern=entry["coat_pattern"], coat_colour=entry["coat_colour"],
        marking_colour=entry["marking_colour"], title="Illustration", kind=entry["kind"],
        genus=entry["genus"], weight_max_kg=entry["weight_max_kg"],
        ears=entry.get("ears", ""), tail=entry.get("tail", ""))


def shapes_only(svg: str) -> str:
    """The drawing without its colours (every colour, opacity and gradient stop the same),
    without the randomly placed markings: what is left is the cat's shape."""
    svg = re.sub(r"#[0-9a-fA-F]{6}", "#000", svg)
    svg = re.sub(r'(opacity|stop-opacity)="[^"]*"', "", svg)
    return re.sub(r'<g clip-path="url\(#fur\)">.*?</g>(?=<)', "", svg, count=1, flags=re.S)


SEVEN = ["lion", "tiger", "eurasian-lynx", "caracal", "maine-coon", "sphynx", "scottish-fold"]


def test_the_seven_cats_of_issue_21_differ_in_shape_not_only_in_colour():
    shapes = {slug: shapes_only(entry_svg(slug)) for slug in SEVEN + ["domestic-tabby"]}
    for a, b in itertools.combinations(shapes, 2):
        assert shapes[a] != shapes[b], f"{a} and {b} have the same shape"


@pytest.mark.parametrize("slug,present,absent", [
    ("lion", {"mane", "tail-tuft", "ears-small"}, {"tufts", "long-coat"}),
    ("tiger", {"tail-rings", "ears-small"}, {"mane", "tufts"}),
    ("eurasian-lynx", {"tufts-long", "ruff", "tail-short"}, {"mane"}),
    ("caracal", {"tufts-long", "ears-tall"}, {"ruff", "mane"}),
    ("maine-coon", {"long-coat", "tufts-tips", "tail-long", "tail-rings"}, {"ruff"}),
    ("domestic-tabby", {"ears-normal"}, {"long-coat", "tufts"}),
    ("sphynx", {"ears-large"}, {"long-coat", "tufts", "curls"}),
    ("scottish-fold", {"ears-folded"}, {"ears-normal", "tufts"}),
    ("devon-rex", {"curls", "ears-large"}, {"long-coat"}),
    ("abyssinian", {"ticking"}, {"long-coat"}),
])
def test_each_entry_is_drawn_with_its_features(slug, present, absent):
    classes = set(" ".join(re.findall(r'class="([^"]+)"', entry_svg(slug))).split())
    assert present <= classes, present - classes
    assert not absent & classes, absent & classes


def test_features_come_from_the_entries_fields():
    wild = features(slug="new-cat", coat_pattern="spotted", kind="wild", genus="Lynx",
                    weight_max_kg=20, ears="Long black tufts", tail="Short, black tip")
    assert (wild.tufts, wild.ruff, wild.tail, wild.tail_tip) == ("long", True, "short", "dark")
    big = features(slug="new-big-cat", coat_pattern="plain", kind="wild", genus="Panthera",
                   weight_max_kg=200, tail="Long, ringed")
    assert (big.build, big.ears, big.tail, big.tail_rings) == ("massive", "small", "long", True)
    plain = features(slug="new-breed", coat_pattern="plain", kind="breed", genus="Felis",
                     weight_max_kg=5)
    assert (plain.tufts, plain.mane, plain.coat, plain.tail) == ("none", False, "short", "medium")
