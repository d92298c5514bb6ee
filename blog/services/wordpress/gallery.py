"""WordPress galleries as Circle's figure group: the shortcode and the block editor's gallery.

Circle stores a gallery as `<figure class="gallery">` holding one image figure per
picture (each with its caption, if any) and, last, the gallery's own caption:

    <figure class="gallery"><figure><img src alt><figcaption>…</figcaption></figure>…
    <figcaption>…</figcaption></figure>

Like markup.py, plain text in, text out: a `[gallery]` shortcode names attachments,
which the caller looks up in a `GallerySource`. The images keep the old site's
addresses here; `markup.rewrite_uploads` points them at the re-hosted copies.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ...sanitize import GALLERY_CLASS

_IMG_TAG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_IMG_ATTR = re.compile(r"""\s(src|alt)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_FIGURE_TAG = re.compile(r"<(/?)figure\b[^>]*>", re.IGNORECASE)
_BLOCK_GALLERY_START = re.compile(
    r"<figure\b[^>]*\bclass\s*=\s*[\"'][^\"']*\bwp-block-gallery\b[^>]*>", re.IGNORECASE
)
_FIGCAPTION = re.compile(r"<figcaption\b[^>]*>(.*?)</figcaption\s*>", re.IGNORECASE | re.DOTALL)
_IDS = re.compile(r"\d+")


@dataclass(frozen=True)
class GalleryImage:
    """One picture of a gallery: its address, alt text and caption (HTML)."""

    src: str
    alt: str = ""
    caption: str = ""


@dataclass
class GallerySource:
    """The pictures a post's `[gallery]` shortcodes can show.

    images: the export's image attachments by WordPress id; attached: the ids of
    the post's own images (a `[gallery]` without ids shows them), in order.
    """

    images: Mapping[int, GalleryImage] = field(default_factory=dict)
    attached: Sequence[int] = ()


def gallery_html(images: Sequence[GalleryImage], caption: str = "") -> str:
    """Circle's gallery markup for these pictures, with the gallery's caption (HTML) if any."""
    parts = [f'<figure class="{GALLERY_CLASS}">']
    for image in images:
        img = f'<img src="{html.escape(image.src)}" alt="{html.escape(image.alt)}">'
        text = image.caption.strip()
        parts.append(f"<figure>{img}<figcaption>{text}</figcaption></figure>" if text
                     else f"<figure>{img}</figure>")
    if caption.strip():
        parts.append(f"<figcaption>{caption.strip()}</figcaption>")
    parts.append("</figure>")
    return "".join(parts)


def shortcode_gallery(attrs: Mapping[str, str], source: GallerySource, lost: list[str]) -> str:
    """A `[gallery]` shortcode's pictures as Circle's gallery; unknown ids are noted in lost.

    `ids` (or the older `include`) names the attachments; without them the
    gallery shows the post's own images, but those `exclude` names. columns,
    size, link and order are left to Circle's grid.
    """
    named = attrs.get("ids") or attrs.get("include") or ""
    if named:
        ids = [int(value) for value in _IDS.findall(named)]
    else:
        left_out = {int(value) for value in _IDS.findall(attrs.get("exclude", ""))}
        ids = [value for value in source.attached if value not in left_out]
    images = []
    for attachment_id in ids:
        image = source.images.get(attachment_id)
        if image is None:
            lost.append(f"[gallery]: image {attachment_id} is not among the export's images")
        else:
            images.append(image)
    if not images:
        lost.append("[gallery] shortcode: no images to show, not brought over")
        return ""
    return gallery_html(images)


def _figure_end(text: str, start: int) -> int | None:
    """Where the <figure> opened at start closes (after its </figure>), counting nested ones."""
    depth = 0
    for tag in _FIGURE_TAG.finditer(text, start):
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            return tag.end()
    return None


def _picture(inner: str) -> GalleryImage | None:
    """The image and caption of one picture of a block gallery, or None without an image."""
    img = _IMG_TAG.search(inner)
    if img is None:
        return None
    found = {
        m.group(1).lower(): html.unescape(m.group(2) if m.group(2) is not None else m.group(3))
        for m in _IMG_ATTR.finditer(img.group(0))
    }
    caption = _FIGCAPTION.search(inner)
    return GalleryImage(
        src=found.get("src", ""), alt=found.get("alt", ""),
        caption=caption.group(1) if caption else "",
    )


def _block_gallery(block: str, lost: list[str]) -> str:
    """One block-editor gallery (its whole <figure>) as Circle's gallery."""
    inner = block[block.index(">") + 1 : block.rindex("<")]
    images, rest, at = [], [], 0
    for opening in _FIGURE_TAG.finditer(inner):
        if opening.group(1) or opening.start() < at:
            continue
        end = _figure_end(inner, opening.start()) or len(inner)
        rest.append(inner[at : opening.start()])
        picture = _picture(inner[opening.start() : end])
        if picture is not None and picture.src:
            images.append(picture)
        at = end
    rest.append(inner[at:])
    caption = _FIGCAPTION.search("".join(rest))
    if not images:
        lost.append("a gallery block without images: not brought over")
        return ""
    return gallery_html(images, caption.group(1) if caption else "")


def convert_block_galleries(text: str, lost: list[str]) -> str:
    """Turn the block editor's galleries (<figure class="wp-block-gallery">) into Circle's."""
    out, at = [], 0
    for start in _BLOCK_GALLERY_START.finditer(text):
        if start.start() < at:
            continue
        end = _figure_end(text, start.start())
        if end is None:
            break
        out.append(text[at : start.start()])
        out.append(_block_gallery(text[start.start() : end], lost))
        at = end
    out.append(text[at:])
    return "".join(out)
