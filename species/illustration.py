"""A generated portrait for every species, so pages look finished before anyone uploads a photo.

The drawing is a cat's head and shoulders in the species' coat colours with its coat pattern
(spots, rosettes, stripes, tabby "M", colour points, the Van pattern's coloured cap and tail).
It is deterministic: the same species always gets the same picture, so browsers and CDNs can
cache it. Only presentation attributes and gradients are used (no style attributes): the site's
Content-Security-Policy applies to the SVG too.
"""
import hashlib
import math
import random
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


def _van_tail(colour):
    """The Van's coloured tail, curled up beside the shoulders, with faint darker rings."""
    ring = _mix(colour, "#000000", 0.25)
    path = "M150 200 C186 190 194 160 182 128"
    return [
        f'<path d="{path}" stroke="{colour}" stroke-width="15" fill="none" '
        f'stroke-linecap="round"/>',
        f'<path d="{path}" stroke="{ring}" stroke-width="15" fill="none" '
        f'stroke-dasharray="5 11" opacity="0.5"/>',
    ]


def _hairless(colour):
    return [
        f'<path d="M78 70 Q100 60 122 70 M82 80 Q100 71 118 80 M88 89 Q100 83 112 89" '
        f'stroke="{colour}" stroke-width="2" fill="none" opacity="0.55" stroke-linecap="round"/>'
    ]


def species_svg(*, slug: str, coat_pattern: str, coat_colour: str, marking_colour: str,
                title: str) -> str:
    rng = _rng(slug)
    background = _mix(coat_colour, "#ffffff", 0.8)
    backdrop = _mix(coat_colour, "#ffffff", 0.62)
    shadow = _mix(coat_colour, "#000000", 0.16)
    light = _mix(coat_colour, "#ffffff", 0.45)
    ear = marking_colour if coat_pattern in ("pointed", "van") else coat_colour
    inner_ear = _mix(ear, "#e79a94", 0.6)
    nose = _mix(coat_colour, "#c4736b", 0.65) if _lightness(coat_colour) > 0.35 else "#3a2a26"
    whisker = "#fbf7f0" if _lightness(coat_colour) < 0.3 else INK
    if coat_pattern == "van":
        eyes = rng.choice(VAN_EYE_PAIRS)
    else:
        eyes = (BLUE_EYES,) * 2 if coat_pattern == "pointed" else (rng.choice(EYE_COLOURS),) * 2

    markings = {
        "spotted": lambda: _spots(rng, marking_colour),
        "rosettes": lambda: _rosettes(rng, marking_colour, coat_colour),
        "striped": lambda: _stripes(rng, marking_colour, bold=True),
        "tabby": lambda: _stripes(rng, marking_colour, bold=False),
        "pointed": lambda: _points(marking_colour),
        "van": lambda: _van_cap(marking_colour),
        "hairless": lambda: _hairless(marking_colour),
    }.get(coat_pattern, list)()

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
        # Shoulders and a pale chest, then the ears behind the head.
        *(_van_tail(marking_colour) if coat_pattern == "van" else ()),
        f'<path d="{BODY}" fill="{shadow}"/>',
        f'<ellipse cx="100" cy="200" rx="34" ry="44" fill="{light}"/>',
        f'<path d="{EARS[0]}" fill="{ear}"/><path d="{EARS[1]}" fill="{ear}"/>',
        f'<path d="{INNER_EARS[0]}" fill="{inner_ear}"/>'
        f'<path d="{INNER_EARS[1]}" fill="{inner_ear}"/>',
        f'<path d="{HEAD}" fill="{coat_colour}"/>',
        f'<path d="{HEAD}" fill="url(#shade)"/>',
        '<g clip-path="url(#fur)">' + "".join(markings) + "</g>",
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
    parts += [
        f'<path d="M91 126 Q100 122 109 126 Q108 133 100 136 Q92 133 91 126 Z" fill="{nose}"/>',
        f'<path d="M100 136 L100 142 M100 142 Q95 148 89 145 M100 142 Q105 148 111 145" '
        f'stroke="{INK}" stroke-width="1.8" fill="none" stroke-linecap="round"/>',
        f'<g fill="{INK}" opacity="0.45"><circle cx="84" cy="138" r="1.2"/>'
        f'<circle cx="90" cy="143" r="1.2"/><circle cx="116" cy="138" r="1.2"/>'
        f'<circle cx="110" cy="143" r="1.2"/></g>',
        f'<g stroke="{whisker}" stroke-width="1.2" opacity="0.7" stroke-linecap="round" '
        f'fill="none"><path d="M80 138 Q56 130 28 128 M80 143 Q54 142 26 146 '
        f'M82 147 Q58 152 34 162 '
        f'M120 138 Q144 130 172 128 M120 143 Q146 142 174 146 M118 147 Q142 152 166 162"/></g>',
        "</svg>",
    ]
    return "".join(parts)
