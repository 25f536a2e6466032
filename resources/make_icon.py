"""Draw latentlab's application icon: `python resources/make_icon.py` writes latentlab.svg and
latentlab.png (256 x 256) beside this script.

The picture is the app in miniature: a latent plane (rounded dark tile) with clusters of
coloured points, one per class, and the explorer's ring marker on one of them. The SVG is the
source; the PNG is drawn from the same shapes with Pillow (4x supersampled, then reduced), so
no SVG renderer is needed.
"""

from __future__ import annotations

import math
from pathlib import Path

SIZE = 256
HERE = Path(__file__).resolve().parent
BACKGROUND = "#1f2a44"
PLANE = "#2b3a5c"
RING = "#ffffff"
# Class colours (matplotlib's tab10, as the scatter uses) and cluster centres on the plane.
CLUSTERS = [
    ("#1f77b4", (78, 92)),
    ("#ff7f0e", (170, 78)),
    ("#2ca02c", (188, 160)),
    ("#d62728", (92, 178)),
    ("#9467bd", (136, 128)),
]
POINTS_PER_CLUSTER = 9
RING_AT = (170, 78)


def points() -> list[tuple[str, float, float, float]]:
    """(colour, x, y, radius) of every point: a fixed golden-angle spiral in each cluster."""
    out = []
    for k, (colour, (cx, cy)) in enumerate(CLUSTERS):
        for i in range(POINTS_PER_CLUSTER):
            angle = i * 2.39996 + k
            r = 7.0 * math.sqrt(i + 0.5)
            out.append((colour, cx + r * math.cos(angle), cy + r * math.sin(angle), 6.5))
    return out


def svg() -> str:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" '
        f'viewBox="0 0 {SIZE} {SIZE}">',
        f'<rect x="8" y="8" width="240" height="240" rx="44" fill="{BACKGROUND}" stroke="none"/>',
        f'<rect x="32" y="32" width="192" height="192" rx="20" fill="{PLANE}" stroke="none"/>',
    ]
    for colour, x, y, r in points():
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{colour}" stroke="none"/>')
    x, y = RING_AT
    parts.append(f'<circle cx="{x}" cy="{y}" r="28" fill="none" stroke="{RING}" stroke-width="7"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def png(path: Path) -> None:
    from PIL import Image, ImageDraw

    s = 4  # supersampling
    image = Image.new("RGBA", (SIZE * s, SIZE * s), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle([8 * s, 8 * s, 248 * s, 248 * s], radius=44 * s, fill=BACKGROUND)
    draw.rounded_rectangle([32 * s, 32 * s, 224 * s, 224 * s], radius=20 * s, fill=PLANE)
    for colour, x, y, r in points():
        draw.ellipse([(x - r) * s, (y - r) * s, (x + r) * s, (y + r) * s], fill=colour)
    x, y = RING_AT
    outer, width = 28 + 3.5, 7
    draw.ellipse(
        [(x - outer) * s, (y - outer) * s, (x + outer) * s, (y + outer) * s],
        outline=RING,
        width=width * s,
    )
    image.resize((SIZE, SIZE), Image.Resampling.LANCZOS).save(path, optimize=True)


def main() -> None:
    (HERE / "latentlab.svg").write_text(svg())
    png(HERE / "latentlab.png")


if __name__ == "__main__":
    main()
