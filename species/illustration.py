"""A generated portrait for every species, so pages look finished before anyone uploads a photo.

The drawing is a cat's head, shoulders and tail in the species' coat colours with its coat
pattern (spots, rosettes, stripes, tabby "M", ticking, colour points, the Van pattern's cap and
tail) and the features that tell cats apart at a glance (``Features``, from the entry's data:
ear tufts, a mane, long, curly or no coat, folded ears, build, tail length and rings). Two
entries that differ in a feature differ in shape, not only in colour. It is deterministic: the
same species always gets the same picture, so browsers and CDNs can cache it. Only
presentation attributes and gradients are used (no style attributes): the site's
Content-Security-Policy applies to the SVG too.
"""
import hashlib
import math
import random
from dataclasses import dataclass
from html import escape

VIEWBOX = 200
HEAD = (
    "M100 46 C138 46 160 66 163 98 C166 126 154 150 133 162 C121 169 110 171 100 171 "
    "C90 171 79 169 67 162 C46 150 34 126 37 98 C40 66 62 46 100 46 Z"
)
BODY = "M22 200 C26 168 52 150 80 146 L120 146 C148 150 174 168 178 200 Z"
EARS = (
    "M46 92 C40 62 44 38 54 20 C58 14 63 15 67 20 L96 56 Z",
    "M154 92 C160 62 156 38 146 20 C142 14 137 15 133 20 L104 56 Z",
)
INNER_EARS = (
    "M54 78 C51 58 54 42 59 31 L84 58 Z",
    "M146 78 C149 58 146 42 141 31 L116 58 Z",
)
EYES = ((77, 104), (123, 104))
# Where markings must not go: the eyes and the muzzle stay readable.
CLEAR_ZONES = ((77, 104, 20), (123, 104, 20), (100, 138, 24))
EYE_COLOURS = ("#7a9a3a", "#c99a2e", "#b8862b", "#8fa347", "#d4a23a", "#9c7a2a")
BLUE_EYES = "#4f8fd0"
AMBER_EYES = "#d4a23a"
# A Van's eyes are amber, blue or one of each ("odd-eyed"); colour points always have blue eyes.
VAN_EYE_PAIRS = ((AMBER_EYES, AMBER_EYES), (BLUE_EYES, BLUE_EYES), (BLUE_EYES, AMBER_EYES))
INK = "#1f1a17"


def _rng(seed: str) -> random.Random:
    return random.Random(int(hashlib.sha256(seed.encode()).hexdigest()[:16], 16))


def _mix(colour: str, other: str, amount: float) -> str:
    """Blend two #rrggbb colours: amount 0 gives colour, 1 gives other."""
    a = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(other[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * amount):02x}" for x, y in zip(a, b, strict=True))


def _lightness(colour: str) -> float:
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _clear(x: float, y: float, margin: float = 0) -> bool:
    return all(math.hypot(x - cx, y - cy) > r + margin for cx, cy, r in CLEAR_ZONES)


def _places(rng, count, margin=0):
    """Up to ``count`` points on the head and shoulders, away from the eyes and muzzle."""
    points = []
    for _ in range(count * 3):
        x, y = rng.uniform(30, 170), rng.uniform(48, 198)
        if _clear(x, y, margin):
            points.append((x, y))
        if len(points) == count:
            break
    return points


def _spots(rng, colour):
    shapes = []
    for x, y in _places(rng, 46, margin=4):
        rx = rng.uniform(2.6, 5.2)
        shapes.append(
            f'<ellipse cx="{x:.1f}" cy="{y:.1f}" rx="{rx:.1f}" ry="{rx * rng.uniform(0.7, 1):.1f}" '
            f'transform="rotate({rng.uniform(0, 180):.0f} {x:.1f} {y:.1f})" fill="{colour}"/>'
        )
    return shapes


def _rosettes(rng, colour, coat):
    """Broken rings of small blobs around a centre darker than the coat."""
    centre = _mix(coat, colour, 0.28)
    shapes = []
    for x, y in _places(rng, 20, margin=10):
        r = rng.uniform(5, 8)
        shapes.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r * 0.8:.1f}" fill="{centre}"/>')
        start = rng.uniform(0, math.tau)
        blobs = rng.randint(3, 5)
        for i in range(blobs):
            angle = start + i * math.tau / blobs + rng.uniform(-0.3, 0.3)
            bx, by = x + r * math.cos(angle), y + r * math.sin(angle)
            shapes.append(
                f'<ellipse cx="{bx:.1f}" cy="{by:.1f}" rx="{rng.uniform(2.2, 3.4):.1f}" '
                f'ry="{rng.uniform(1.5, 2.3):.1f}" '
                f'transform="rotate({math.degrees(angle) + 90:.0f} {bx:.1f} {by:.1f})" '
                f'fill="{colour}"/>'
            )
    return shapes


def _stripe(x0, y0, x1, y1, bend, colour, width):
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2 + bend
    return (
        f'<path d="M{x0:.1f} {y0:.1f} Q{mx:.1f} {my:.1f} {x1:.1f} {y1:.1f}" stroke="{colour}" '
        f'stroke-width="{width:.1f}" fill="none" stroke-linecap="round"/>'
    )


def _stripes(rng, colour, bold):
    """Bold tiger stripes or the finer lines of a tabby, with the forehead "M"."""
    width = 6 if bold else 3.6
    shapes = []
    for side in (-1, 1):
        # Cheeks and the sides of the head: stripes that sweep in towards the face.
        for i in range(4 if bold else 3):
            y = 84 + i * 17 + rng.uniform(-3, 3)
            outer, inner = 100 + side * 66, 100 + side * rng.uniform(40, 50)
            shapes.append(_stripe(outer, y, inner, y + 8, -8, colour, width - i * 0.6))
        # The line running back from the outer corner of each eye.
        shapes.append(_stripe(100 + side * 94, 108, 100 + side * 112, 100, 2, colour, width * 0.6))
        # Shoulders.
        for i in range(3):
            x = 100 + side * (46 + i * 18)
            shapes.append(_stripe(x, 150 + i * 4, x + side * 8, 196, 0, colour, width))
    # Forehead: an "M" on a tabby, vertical bars on a tiger.
    if bold:
        for dx in (-14, 0, 14):
            shapes.append(_stripe(100 + dx, 52, 100 + dx * 0.6, 80, 0, colour, width * 0.8))
    else:
        shapes.append(
            f'<path d="M84 84 L88 62 L100 76 L112 62 L116 84" stroke="{colour}" '
            f'stroke-width="{width}" fill="none" stroke-linejoin="round" stroke-linecap="round"/>'
        )
    return shapes


def _points(colour):
    """Colour points: a dark mask over the face that fades out to the cheeks (the ears are
    darkened where they are drawn, outside the head)."""
    return ['<ellipse cx="100" cy="124" rx="46" ry="50" fill="url(#mask)"/>']


def _van_cap(colour):
    """The Van pattern on the head: two patches on the crown parted by a white blaze, with the
    rest of the face, the muzzle and the chest white (no mask, unlike colour points)."""
    return [
        f'<path d="M42 96 C40 66 60 48 94 46 L96 54 C88 66 86 78 84 90 C70 84 54 86 42 96 Z" '
        f'fill="{colour}"/>',
        f'<path d="M158 96 C160 66 140 48 106 46 L104 54 C112 66 114 78 116 90 '
        f'C130 84 146 86 158 96 Z" fill="{colour}"/>',
    ]


def _hairless(colour):
    return [
        f'<path d="M78 70 Q100 60 122 70 M82 80 Q100 71 118 80 M88 89 Q100 83 112 89" '
        f'stroke="{colour}" stroke-width="2" fill="none" opacity="0.55" stroke-linecap="round"/>'
    ]



# What no field of an entry says, by slug (an editor's new entry gets what its fields imply).
# Coat length: the long-haired breeds, and the wild cats with long, dense fur.
LONG_COATS = frozenset({
    "persian", "maine-coon", "ragdoll", "norwegian-forest-cat", "birman", "siberian",
    "turkish-van", "pallass-cat", "snow-leopard",
})
CURLY_COATS = frozenset({"devon-rex"})
FOLDED_EARS = frozenset({"scottish-fold"})
MANES = frozenset({"lion"})
# Tufted ear tips ("lynx tips") of some long-haired breeds, smaller than a lynx's tufts.
EAR_TIPS = frozenset({"maine-coon", "norwegian-forest-cat", "siberian"})
LARGE_EARS = frozenset({
    "devon-rex", "sphynx", "oriental-shorthair", "siamese", "serval", "sand-cat", "abyssinian",
})
TICKED = frozenset({"abyssinian"})
SLENDER = frozenset({"siamese", "oriental-shorthair", "cheetah", "serval", "sphynx"})
COBBY = frozenset({"persian", "british-shorthair", "pallass-cat", "scottish-fold", "burmese"})
RINGED_TAILS = frozenset({
    "european-wildcat", "african-wildcat", "ocelot", "margay", "pallass-cat", "domestic-tabby",
    "american-shorthair", "maine-coon", "siberian", "norwegian-forest-cat", "jungle-cat",
    "cheetah", "clouded-leopard", "sunda-clouded-leopard", "marbled-cat",
})
# Big cats: heavier than this (kg, the range's top) have a broad head and small, round ears.
MASSIVE_KG = 50


@dataclass(frozen=True)
class Features:
    pattern: str          # the coat pattern, or "ticked"
    coat: str             # short, long, curly, hairless
    build: str            # massive, slender, cobby, medium
    ears: str             # normal, tall, large, small, folded
    tufts: str            # none, tips, long (a lynx's, a caracal's)
    ruff: bool            # the lynxes' cheek ruff
    mane: bool
    tail: str             # short, medium, long
    tail_rings: bool
    tail_tip: str         # none, tuft (the lion's), dark


def features(*, slug: str, coat_pattern: str, kind: str = "", genus: str = "",
             weight_max_kg=None, ears: str = "", tail: str = "") -> Features:
    """The features an entry is drawn with, from its fields (the ``ears`` and ``tail``
    comparisons, genus, weight, pattern) and, where no field says, the tables above."""
    ears_text, tail_text = ears.lower(), tail.lower()
    heavy = weight_max_kg is not None and float(weight_max_kg) >= MASSIVE_KG
    tufted = "tuft" in ears_text and "without tufts" not in ears_text
    if coat_pattern == "hairless":
        coat = "hairless"
    elif slug in CURLY_COATS:
        coat = "curly"
    elif slug in LONG_COATS:
        coat = "long"
    else:
        coat = "short"
    if slug in FOLDED_EARS:
        ear_shape = "folded"
    elif tufted and "tall" in ears_text:
        ear_shape = "tall"
    elif slug in LARGE_EARS or coat == "hairless":
        ear_shape = "large"
    elif heavy or "small" in ears_text or "rounded" in ears_text:
        ear_shape = "small"
    else:
        ear_shape = "normal"
    if tufted:
        tufts = "long" if ("long" in ears_text or "tall" in ears_text) else "tips"
    else:
        tufts = "tips" if slug in EAR_TIPS else "none"
    if "short" in tail_text or genus == "Lynx":
        tail_length = "short"
    elif "long" in tail_text or kind == "wild" or coat == "long":
        tail_length = "long"
    else:
        tail_length = "medium"
    return Features(
        pattern="ticked" if slug in TICKED else coat_pattern,
        coat=coat,
        build=("massive" if heavy else "slender" if slug in SLENDER
               else "cobby" if slug in COBBY else "medium"),
        ears=ear_shape,
        tufts=tufts,
        ruff=genus == "Lynx",
        mane=slug in MANES,
        tail=tail_length,
        tail_rings=("ring" in tail_text or slug in RINGED_TAILS),
        tail_tip=("tuft" if "tuft" in tail_text else
                  "dark" if ("black" in tail_text or "dark" in tail_text) else "none"),
    )


# How each build reshapes the head (x and y scale about the face's centre).
HEAD_SCALES = {"massive": (1.1, 1.0), "slender": (0.86, 1.04), "cobby": (1.08, 0.94),
               "medium": (1.0, 1.0)}
HEAD_CENTRE = (100, 110)


# How the tall (caracal) and large (rex, Sphynx, Siamese) ears stretch the usual ear, about its
# base; the head is drawn a little smaller and lower to make room for them (HEAD_ROOM).
EAR_SCALES = {"tall": (0.9, 1.32), "large": (1.22, 1.22), "normal": (1.0, 1.0)}
EAR_BASE_Y = 80
EAR_TIPS_XY = ((60, 14), (140, 14))
HEAD_ROOM = {"tall": (0.86, 18), "large": (0.92, 10)}


def _ear_group(shape, colour, inner, marking):
    """The ears, behind the head, in one of the shapes."""
    if shape == "folded":
        # Folded forward and down: small caps lying on the crown, drawn over the head.
        return ""
    if shape == "small":
        return (f'<g class="ears ears-small">'
                f'<ellipse cx="58" cy="62" rx="17" ry="16" fill="{colour}"/>'
                f'<ellipse cx="142" cy="62" rx="17" ry="16" fill="{colour}"/>'
                f'<ellipse cx="60" cy="64" rx="9" ry="8" fill="{inner}"/>'
                f'<ellipse cx="140" cy="64" rx="9" ry="8" fill="{inner}"/></g>')
    scale = EAR_SCALES[shape]
    parts = []
    for side, (outer, inside) in enumerate(zip(EARS, INNER_EARS, strict=True)):
        base_x = 70 if side == 0 else 130
        transform = (f'translate({base_x} 80) scale({scale[0]} {scale[1]}) '
                     f'translate({-base_x} -80)')
        parts.append(f'<g transform="{transform}"><path d="{outer}" fill="{colour}"/>'
                     f'<path d="{inside}" fill="{inner}"/></g>')
    return f'<g class="ears ears-{shape}">' + "".join(parts) + "</g>"


def _tufts(kind, shape, colour):
    """Black tufts standing up from the ear tips: long on lynxes and the caracal."""
    if kind == "none" or shape == "folded":
        return ""
    length = 26 if kind == "long" else 11
    width = 3.4 if kind == "long" else 2.4
    paths = []
    for (x, y), lean in zip(EAR_TIPS_XY, (-1, 1), strict=True):
        if shape == "small":
            x, y = (50 if lean < 0 else 150), 47
        else:
            sx, sy = EAR_SCALES[shape]
            base_x = 70 if lean < 0 else 130
            x, y = base_x + (x - base_x) * sx, EAR_BASE_Y - (EAR_BASE_Y - y) * sy
        paths.append(
            f'<path d="M{x:.1f} {y + 5:.1f} Q{x + lean * 2:.1f} {y - length / 2:.1f} '
            f'{x + lean * 5:.1f} {y - length:.1f}" stroke="{colour}" stroke-width="{width}" '
            f'fill="none" stroke-linecap="round"/>')
    return f'<g class="tufts tufts-{kind}">' + "".join(paths) + "</g>"


def _folded_ears(colour, edge):
    """Ears folded forward and down: small caps lying flat on the crown, their edges dark."""
    return (f'<g class="ears ears-folded" fill="{colour}" stroke="{edge}" stroke-width="2.4" '
            f'stroke-linejoin="round">'
            f'<path d="M46 70 C46 50 62 42 80 48 C78 60 66 70 46 70 Z"/>'
            f'<path d="M154 70 C154 50 138 42 120 48 C122 60 134 70 154 70 Z"/></g>')


def _lobes(cx, cy, radius, count, depth, rng, start=0.0, end=math.tau):
    """A closed outline with ``count`` pointed lobes: fur standing out around a centre."""
    points = []
    steps = count * 2
    for i in range(steps + 1):
        angle = start + (end - start) * i / steps
        r = radius + (depth if i % 2 == 0 else -depth * 0.3) + rng.uniform(-2, 2)
        points.append(f"{cx + r * math.cos(angle):.1f} {cy + r * math.sin(angle):.1f}")
    return "M" + " L".join(points) + " Z"


def _mane(rng, coat, marking):
    colour = _mix(coat, marking, 0.45)
    outer = _lobes(100, 112, 80, 22, 12, rng)
    inner = _lobes(100, 118, 66, 18, 8, rng)
    return (f'<g class="mane"><path d="{outer}" fill="{colour}"/>'
            f'<path d="{inner}" fill="{_mix(colour, coat, 0.4)}"/></g>')


def _ruff(colour):
    """The lynxes' cheek ruff: pointed fur hanging from the jaw on both sides."""
    return (f'<g class="ruff" fill="{colour}">'
            f'<path d="M44 120 L30 160 L48 150 L46 170 L62 156 L66 170 L76 158 Z"/>'
            f'<path d="M156 120 L170 160 L152 150 L154 170 L138 156 L134 170 L124 158 Z"/>'
            "</g>")


def _long_coat(rng, colour):
    """Long fur: a fluffy ruff standing out around the cheeks and the chest."""
    ruff = _lobes(100, 118, 70, 20, 13, rng, start=-0.05 * math.pi, end=1.05 * math.pi)
    chest = _lobes(100, 196, 58, 12, 10, rng, start=math.pi, end=2 * math.pi)
    return (f'<g class="long-coat" fill="{colour}"><path d="{ruff}"/>'
            f'<path d="{chest}"/></g>')


def _curls(rng, colour):
    """A curly (rex) coat: rows of small waves over the head and shoulders."""
    waves = []
    for y in range(56, 200, 13):
        x = 34 + rng.uniform(0, 8)
        d = f"M{x:.0f} {y}"
        while x < 164:
            d += " q4 -6 8 0 q4 6 8 0"
            x += 16
        waves.append(d)
    return [f'<path class="curls" d="{" ".join(waves)}" stroke="{colour}" stroke-width="1.6" '
            f'fill="none" opacity="0.45"/>']


def _ticked(rng, colour):
    """Ticking: the Abyssinian's agouti hairs, a fine even speckle with no stripes or spots."""
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="0.9"/>'
                   for x, y in _places(rng, 240, margin=-6))
    return [f'<g class="ticking" fill="{colour}" opacity="0.5">{dots}</g>']


TAIL_PATHS = {
    "short": "M168 196 C180 190 186 182 186 170",
    "medium": "M152 200 C180 194 188 172 180 146",
    "long": "M148 200 C190 196 198 156 184 118 C178 102 170 96 164 100",
}


def _tail(f: Features, colour, marking):
    path = TAIL_PATHS[f.tail]
    width = {"long": 26, "curly": 12, "hairless": 8}.get(f.coat, 14) + (
        4 if f.build == "massive" else 0)
    end = path.split()[-2:]
    parts = [f'<path d="{path}" stroke="{colour}" stroke-width="{width}" fill="none" '
             f'stroke-linecap="round"/>']
    if f.tail_rings:
        parts.append(f'<path d="{path}" stroke="{marking}" stroke-width="{width}" fill="none" '
                     f'stroke-dasharray="5 9" opacity="0.85" class="tail-rings"/>')
    if f.tail_tip == "tuft":
        parts.append(f'<ellipse cx="{end[0]}" cy="{end[1]}" rx="{width * 0.7}" '
                     f'ry="{width * 0.9}" fill="{marking}" class="tail-tuft"/>')
    elif f.tail_tip == "dark":
        parts.append(f'<circle cx="{end[0]}" cy="{end[1]}" r="{width / 2}" fill="{marking}"/>')
    return f'<g class="tail tail-{f.tail}">' + "".join(parts) + "</g>"

def species_svg(*, slug: str, coat_pattern: str, coat_colour: str, marking_colour: str,
                title: str, kind: str = "", genus: str = "", weight_max_kg=None,
                ears: str = "", tail: str = "") -> str:
    f = features(slug=slug, coat_pattern=coat_pattern, kind=kind, genus=genus,
                 weight_max_kg=weight_max_kg, ears=ears, tail=tail)
    rng = _rng(slug)
    background = _mix(coat_colour, "#ffffff", 0.8)
    backdrop = _mix(coat_colour, "#ffffff", 0.62)
    shadow = _mix(coat_colour, "#000000", 0.16)
    light = _mix(coat_colour, "#ffffff", 0.45)
    ear = marking_colour if coat_pattern in ("pointed", "van") else coat_colour
    inner_ear = _mix(ear, "#e79a94", 0.6)
    nose = _mix(coat_colour, "#c4736b", 0.65) if _lightness(coat_colour) > 0.35 else "#3a2a26"
    whisker = "#fbf7f0" if _lightness(coat_colour) < 0.3 else INK
    tuft_colour = INK if _lightness(marking_colour) > 0.25 else marking_colour
    if coat_pattern == "van":
        eyes = rng.choice(VAN_EYE_PAIRS)
    else:
        eyes = (BLUE_EYES,) * 2 if coat_pattern == "pointed" else (rng.choice(EYE_COLOURS),) * 2

    markings = {
        "spotted": lambda: _spots(rng, marking_colour),
        "rosettes": lambda: _rosettes(rng, marking_colour, coat_colour),
        "striped": lambda: _stripes(rng, marking_colour, bold=True),
        "tabby": lambda: _stripes(rng, marking_colour, bold=False),
        "ticked": lambda: _ticked(rng, marking_colour),
        "pointed": lambda: _points(marking_colour),
        "van": lambda: _van_cap(marking_colour),
        "hairless": lambda: _hairless(marking_colour),
    }.get(f.pattern, list)()
    if f.coat == "curly":
        markings = [*markings, *_curls(rng, shadow)]
    sx, sy = HEAD_SCALES[f.build]
    # Long tufts need the room of tall ears.
    room, drop = HEAD_ROOM.get("tall" if f.tufts == "long" else f.ears, (1.0, 0))
    cx, cy = HEAD_CENTRE
    head_transform = (f"translate({cx} {cy + drop}) scale({sx * room:.3f} {sy * room:.3f}) "
                      f"translate({-cx} {-cy})")
    tail_colour = marking_colour if coat_pattern in ("van", "pointed") else coat_colour

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {VIEWBOX} {VIEWBOX}" '
        f'role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        "<defs>",
        '<clipPath id="fur"><path d="' + HEAD + '"/><path d="' + BODY + '"/></clipPath>',
        # Light from above left: a highlight on the crown, a little shade at the jaw.
        '<radialGradient id="shade" cx="0.42" cy="0.3" r="0.75">'
        '<stop offset="0" stop-color="#ffffff" stop-opacity="0.22"/>'
        '<stop offset="0.6" stop-color="#ffffff" stop-opacity="0"/>'
        '<stop offset="1" stop-color="#000000" stop-opacity="0.16"/></radialGradient>',
        *(
            f'<radialGradient id="iris{i}" cx="0.5" cy="0.45" r="0.6">'
            f'<stop offset="0" stop-color="{_mix(eye, "#ffffff", 0.35)}"/>'
            f'<stop offset="1" stop-color="{_mix(eye, "#000000", 0.2)}"/></radialGradient>'
            for i, eye in enumerate(eyes)
        ),
        f'<radialGradient id="mask" cx="0.5" cy="0.55" r="0.5">'
        f'<stop offset="0.35" stop-color="{marking_colour}" stop-opacity="0.95"/>'
        f'<stop offset="1" stop-color="{marking_colour}" stop-opacity="0"/></radialGradient>',
        "</defs>",
        f'<rect width="{VIEWBOX}" height="{VIEWBOX}" fill="{background}"/>',
        f'<circle cx="100" cy="104" r="84" fill="{backdrop}"/>',
        # The tail behind the shoulders, then the body and a pale chest.
        _tail(f, tail_colour, marking_colour),
        f'<path d="{BODY}" fill="{shadow}"/>',
        f'<ellipse cx="100" cy="200" rx="34" ry="44" fill="{light}"/>',
        *((_long_coat(rng, _mix(coat_colour, light, 0.5)),) if f.coat == "long" else ()),
        f'<g class="head" transform="{head_transform}">',
        *((_mane(rng, coat_colour, marking_colour),) if f.mane else ()),
        _ear_group(f.ears, ear, inner_ear, marking_colour),
        _tufts(f.tufts, f.ears, tuft_colour),
        *((_ruff(_mix(coat_colour, "#ffffff", 0.25)),) if f.ruff else ()),
        f'<path d="{HEAD}" fill="{coat_colour}"/>',
        f'<path d="{HEAD}" fill="url(#shade)"/>',
        '<g clip-path="url(#fur)">' + "".join(markings) + "</g>",
        *((_folded_ears(_mix(ear, "#000000", 0.12), _mix(ear, INK, 0.6)),)
          if f.ears == "folded" else ()),
        # Muzzle: two whisker pads and a chin, paler than the coat.
        f'<g fill="{light}"><ellipse cx="89" cy="140" rx="15" ry="12"/>'
        f'<ellipse cx="111" cy="140" rx="15" ry="12"/>'
        f'<ellipse cx="100" cy="154" rx="10" ry="7"/></g>',
    ]
    for i, (x, y) in enumerate(EYES):
        outer = 1 if x > 100 else -1
        parts.append(
            # An almond eye, its outer corner a little higher, with a slit pupil and a glint.
            f'<path d="M{x - 16} {y + outer * 2} Q{x} {y - 21} {x + 16} {y - outer * 2} '
            f'Q{x} {y + 18} {x - 16} {y + outer * 2} Z" fill="url(#iris{i})" stroke="{INK}" '
            f'stroke-width="2.4" stroke-linejoin="round"/>'
            f'<ellipse cx="{x}" cy="{y - 0.5}" rx="3.4" ry="8" fill="{INK}"/>'
            f'<circle cx="{x + 4.5}" cy="{y - 4}" r="2.4" fill="#ffffff" opacity="0.9"/>'
        )
    # A hairless cat has few or no whiskers; a rex's are short and curled.
    whiskers = "" if f.coat == "hairless" else (
        f'<g stroke="{whisker}" stroke-width="1.2" opacity="0.7" stroke-linecap="round" '
        f'fill="none">'
        + ('<path d="M80 140 q-10 -8 -20 0 q-8 6 -16 -2 M120 140 q10 -8 20 0 q8 6 16 -2"/>'
           if f.coat == "curly" else
           '<path d="M80 138 Q56 130 28 128 M80 143 Q54 142 26 146 M82 147 Q58 152 34 162 '
           'M120 138 Q144 130 172 128 M120 143 Q146 142 174 146 M118 147 Q142 152 166 162"/>')
        + "</g>")
    parts += [
        f'<path d="M91 126 Q100 122 109 126 Q108 133 100 136 Q92 133 91 126 Z" fill="{nose}"/>',
        f'<path d="M100 136 L100 142 M100 142 Q95 148 89 145 M100 142 Q105 148 111 145" '
        f'stroke="{INK}" stroke-width="1.8" fill="none" stroke-linecap="round"/>',
        f'<g fill="{INK}" opacity="0.45"><circle cx="84" cy="138" r="1.2"/>'
        f'<circle cx="90" cy="143" r="1.2"/><circle cx="116" cy="138" r="1.2"/>'
        f'<circle cx="110" cy="143" r="1.2"/></g>',
        whiskers,
        "</g>",  # the head
        "</svg>",
    ]
    return "".join(parts)
