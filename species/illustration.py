"""A generated portrait for every species, so pages look finished before anyone uploads a photo.

The drawing is a stylised cat face in the species' coat colours with its coat pattern
(spots, rosettes, stripes, tabby "M", colour points). It is deterministic: the same species
always gets the same picture, so browsers and CDNs can cache it.
"""
import hashlib
import random
from html import escape

VIEWBOX = 200
# The head, as a path shared by the fill and the clip that keeps markings inside it.
HEAD = (
    "M40 62 L52 14 L82 46 Q100 40 118 46 L148 14 L160 62 "
    "Q176 92 168 124 Q156 170 100 176 Q44 170 32 124 Q24 92 40 62 Z"
)


def _rng(seed: str) -> random.Random:
    return random.Random(int(hashlib.sha256(seed.encode()).hexdigest()[:16], 16))


def _mix(colour: str, other: str, amount: float) -> str:
    """Blend two #rrggbb colours: amount 0 gives colour, 1 gives other."""
    a = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(other[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * amount):02x}" for x, y in zip(a, b))


def _spots(rng, colour, count, ring=False):
    shapes = []
    for _ in range(count):
        x, y = rng.uniform(36, 164), rng.uniform(30, 170)
        if 66 < x < 134 and 96 < y < 150:  # keep the eyes and muzzle clear
            continue
        r = rng.uniform(3.5, 7.5)
        if ring:
            shapes.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r + 2:.1f}" fill="none" '
                f'stroke="{colour}" stroke-width="{rng.uniform(2, 3.2):.1f}" '
                f'stroke-dasharray="{r * 1.6:.1f} {r * 0.6:.1f}"/>'
            )
        else:
            shapes.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{colour}"/>')
    return shapes


def _stripes(rng, colour, bold):
    width = 5 if bold else 3.5
    shapes = []
    for side in (-1, 1):
        for i in range(4):
            y = 70 + i * 20 + rng.uniform(-3, 3)
            x0 = 100 + side * 68
            x1 = 100 + side * rng.uniform(36, 48)
            shapes.append(
                f'<path d="M{x0} {y:.1f} Q{(x0 + x1) / 2:.1f} {y - 8:.1f} {x1:.1f} {y + 6:.1f}" '
                f'stroke="{colour}" stroke-width="{width}" fill="none" stroke-linecap="round"/>'
            )
    # Forehead stripes (the tabby "M" when not bold).
    shapes.append(
        f'<path d="M84 82 L88 58 L100 74 L112 58 L116 82" stroke="{colour}" '
        f'stroke-width="{width}" fill="none" stroke-linejoin="round" stroke-linecap="round"/>'
    )
    return shapes


def _points(colour):
    return [
        f'<path d="M40 62 L52 14 L82 46 Z" fill="{colour}"/>',
        f'<path d="M160 62 L148 14 L118 46 Z" fill="{colour}"/>',
        f'<ellipse cx="100" cy="138" rx="36" ry="30" fill="{colour}" opacity="0.85"/>',
    ]


def species_svg(*, slug: str, coat_pattern: str, coat_colour: str, marking_colour: str,
                title: str) -> str:
    rng = _rng(slug)
    background = _mix(coat_colour, "#ffffff", 0.82)
    inner_ear = _mix(coat_colour, "#e9a6a0", 0.55)
    markings = {
        "spotted": lambda: _spots(rng, marking_colour, 34),
        "rosettes": lambda: _spots(rng, marking_colour, 26, ring=True),
        "striped": lambda: _stripes(rng, marking_colour, bold=True),
        "tabby": lambda: _stripes(rng, marking_colour, bold=False),
        "pointed": lambda: _points(marking_colour),
    }.get(coat_pattern, list)()
    if coat_pattern == "hairless":
        markings = [
            f'<path d="M80 70 Q100 62 120 70 M84 80 Q100 73 116 80" stroke="{marking_colour}" '
            'stroke-width="2" fill="none" opacity="0.6"/>'
        ]
    muzzle = _mix(coat_colour, "#ffffff", 0.55)
    eye = "#6f8f3a" if rng.random() < 0.5 else "#c99a2e"
    if coat_pattern == "pointed":
        eye = "#3d7fc1"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {VIEWBOX} {VIEWBOX}" '
        f'role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        '<defs><clipPath id="head"><path d="' + HEAD + '"/></clipPath></defs>',
        f'<rect width="{VIEWBOX}" height="{VIEWBOX}" fill="{background}"/>',
        f'<path d="{HEAD}" fill="{coat_colour}"/>',
        f'<path d="M50 56 L56 28 L74 48 Z M150 56 L144 28 L126 48 Z" fill="{inner_ear}"/>',
        '<g clip-path="url(#head)">' + "".join(markings) + "</g>",
        f'<ellipse cx="100" cy="142" rx="30" ry="22" fill="{muzzle}" opacity="0.75"/>',
    ]
    for x in (76, 124):
        parts.append(
            f'<ellipse cx="{x}" cy="108" rx="13" ry="10" fill="{eye}" stroke="#1f1a17" '
            f'stroke-width="2"/><ellipse cx="{x}" cy="108" rx="3.2" ry="8.5" fill="#1f1a17"/>'
        )
    parts += [
        '<path d="M92 130 L108 130 L100 140 Z" fill="#7a4a45"/>',
        '<path d="M100 140 Q100 150 90 152 M100 140 Q100 150 110 152" stroke="#1f1a17" '
        'stroke-width="2" fill="none" stroke-linecap="round"/>',
        '<g stroke="#1f1a17" stroke-width="1.4" opacity="0.55" stroke-linecap="round">'
        '<path d="M76 140 L36 132 M76 146 L34 148 M124 140 L164 132 M124 146 L166 148"/></g>',
        "</svg>",
    ]
    return "".join(parts)
