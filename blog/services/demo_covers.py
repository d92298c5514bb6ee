"""The demo's cover pictures: abstract editorial illustrations drawn by Pillow.

Each picture is made from a slug and a section's colour alone, so the same seed
always draws the same pictures, and nothing is downloaded. The picture is handed
to the media library as an upload (JPEG bytes), so it gets every size and WebP.
"""

from __future__ import annotations

import hashlib
import io
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter

# The size the cover pipeline expects: 16:9, as wide as the widest size written.
COVER_WIDTH = 1600
COVER_HEIGHT = 900
# The soft shapes are drawn at half the size and enlarged: soft edges, and quickly drawn.
_SCALE = 2
_JPEG_QUALITY = 88


@dataclass(frozen=True)
class Colour:
    """A section's colour: its name in words (for alt text) and its value."""

    name: str
    hex: str

    @property
    def rgb(self) -> tuple[int, int, int]:
        """The colour as red, green and blue."""
        value = self.hex.lstrip("#")
        return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def _mix(colour: tuple[int, int, int], other: tuple[int, int, int], share: float) -> tuple:
    """colour moved share of the way towards other."""
    return tuple(round(a + (b - a) * share) for a, b in zip(colour, other, strict=True))


def _tint(rgb: tuple[int, int, int], rnd: random.Random) -> tuple[int, int, int, int]:
    """A lighter or darker shade of rgb, half transparent."""
    if rnd.random() < 0.5:
        shade = _mix(rgb, (255, 250, 242), rnd.uniform(0.35, 0.8))
    else:
        shade = _mix(rgb, (24, 20, 28), rnd.uniform(0.2, 0.55))
    return (*shade, rnd.randint(110, 200))


def _background(rgb: tuple[int, int, int], width: int, height: int, rnd: random.Random):
    """A diagonal wash from a pale tint of the colour to the colour itself."""
    pale = Image.new("RGB", (width, height), _mix(rgb, (250, 246, 238), 0.7))
    deep = Image.new("RGB", (width, height), _mix(rgb, (30, 24, 32), rnd.uniform(0.0, 0.25)))
    down = Image.linear_gradient("L")
    ramp = Image.blend(down, down.transpose(Image.Transpose.ROTATE_90), rnd.uniform(0.3, 0.7))
    if rnd.random() < 0.5:
        ramp = ramp.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    ramp = ramp.resize((width, height))
    return Image.composite(deep, pale, ramp)


def draw_cover(slug: str, colour: Colour) -> Image.Image:
    """An abstract picture for slug in colour: a wash, large discs, bands and a fine grid."""
    rnd = random.Random(hashlib.sha256(slug.encode("utf-8")).digest())
    rgb = colour.rgb
    picture = _soft_shapes(rgb, rnd).resize((COVER_WIDTH, COVER_HEIGHT), Image.Resampling.BICUBIC)
    return _fine_lines(picture, rnd)


def _soft_shapes(rgb: tuple[int, int, int], rnd: random.Random) -> Image.Image:
    """The wash, discs and bands, drawn small: enlarged, their edges stay soft."""
    width, height = COVER_WIDTH // _SCALE, COVER_HEIGHT // _SCALE
    picture = _background(rgb, width, height, rnd).convert("RGBA")
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    pen = ImageDraw.Draw(layer)
    for _ in range(rnd.randint(2, 4)):  # large discs, some cut by the edges
        radius = rnd.randint(height // 5, height // 2)
        x, y = rnd.randint(0, width), rnd.randint(0, height)
        pen.ellipse((x - radius, y - radius, x + radius, y + radius), fill=_tint(rgb, rnd))
    for _ in range(rnd.randint(1, 3)):  # slanted bands across the picture
        y, slope = rnd.randint(0, height), rnd.uniform(-0.5, 0.5)
        thickness = rnd.randint(height // 36, height // 8)
        top, bottom = y - slope * width / 2, y + slope * width / 2
        pen.polygon(
            [(0, top), (width, bottom), (width, bottom + thickness), (0, top + thickness)],
            fill=_tint(rgb, rnd),
        )
    return Image.alpha_composite(picture, layer.filter(ImageFilter.BoxBlur(1)))


def _fine_lines(picture: Image.Image, rnd: random.Random) -> Image.Image:
    """Thin rings and a small dotted grid, drawn at full size so they stay crisp."""
    width, height = picture.size
    layer = Image.new("RGBA", picture.size, (0, 0, 0, 0))
    pen = ImageDraw.Draw(layer)
    for _ in range(rnd.randint(2, 5)):
        radius = rnd.randint(48, height // 3)
        x, y = rnd.randint(0, width), rnd.randint(0, height)
        pen.ellipse(
            (x - radius, y - radius, x + radius, y + radius),
            outline=(255, 252, 246, rnd.randint(120, 220)),
            width=rnd.randint(3, 7),
        )
    step = rnd.choice((40, 48, 56))
    left, top = rnd.randint(0, width // 2), rnd.randint(0, height // 2)
    for gx in range(left, min(width, left + step * 8), step):
        for gy in range(top, min(height, top + step * 5), step):
            pen.ellipse((gx - 4, gy - 4, gx + 4, gy + 4), fill=(255, 252, 246, 200))
    # A touch of blur takes the stair-steps off the lines' edges.
    picture = Image.alpha_composite(picture, layer.filter(ImageFilter.BoxBlur(1)))
    return picture.convert("RGB")


def cover_jpeg(slug: str, colour: Colour) -> bytes:
    """The picture for slug in colour, as the JPEG an editor would upload."""
    out = io.BytesIO()
    draw_cover(slug, colour).save(out, format="JPEG", quality=_JPEG_QUALITY)
    return out.getvalue()


def cover_alt(colour: Colour, section_name: str) -> str:
    """The picture's alt text, in words: what it is, its colour and whose it is."""
    return (
        f"Abstract illustration in {colour.name} for the {section_name} section: "
        "overlapping discs, bands and rings"
    )
