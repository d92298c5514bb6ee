"""Custom fields (wp:postmeta): which become the post's custom fields, and what is left out.

Every custom field readers could see in WordPress (a key without a leading underscore)
is kept as one of the post's custom fields, in the file's order, repeats included. Keys
with a leading underscore are WordPress's and its plugins' own bookkeeping (edit locks,
ping queues, oEmbed caches, page-builder state), hidden in WordPress too: Circle uses the
few that mean something to it (`_thumbnail_id` for the cover, `_wp_old_slug` for
redirects, the attachments' file and alt text, the SEO plugins' title and description:
see seo.py), names in the report the few that mean something it has no place for (a page
template, a noindex, a canonical address), and skips the rest without a word. Rank
Math's own keys (`rank_math_…`, no underscore) count as bookkeeping too.
"""

from __future__ import annotations

from .. import custom_fields
from .records import WxrItem
from .seo import DESCRIPTION_KEYS, TITLE_KEYS

_PLUGIN_PREFIXES = ("rank_math_",)
# Bookkeeping keys with a meaning readers would notice, and why Circle leaves them out.
_MEANINGFUL = {
    "_wp_page_template": "its page template {value!r} (Circle's pages share one layout)",
    "_yoast_wpseo_meta-robots-noindex": (
        "its 'hide from search engines' setting (Circle shows every published post to them)"
    ),
    "_yoast_wpseo_canonical": "its canonical address {value!r} (Circle names its own)",
}
# The values that say nothing (WordPress's default template; Yoast's "as the site says").
_NOT_MEANINGFUL = {
    "_wp_page_template": {"", "default"},
    "_yoast_wpseo_meta-robots-noindex": {"", "0", "2"},
}


def _reader_field(key: str) -> bool:
    """Whether WordPress showed the key in its custom-fields box, and the SEO step leaves it."""
    return (
        bool(key)
        and not key.startswith("_")
        and not key.startswith(_PLUGIN_PREFIXES)
        and key not in TITLE_KEYS
        and key not in DESCRIPTION_KEYS
    )


def kept_fields(item: WxrItem, lost: list[str]) -> list[tuple[str, str]]:
    """The item's custom fields Circle keeps, in order; what it cannot keep goes in lost."""
    kept: list[tuple[str, str]] = []
    for key, values in item.meta.items():
        if key in _MEANINGFUL:
            value = values[0] if values else ""
            if value.strip() not in _NOT_MEANINGFUL.get(key, {""}):
                lost.append(_MEANINGFUL[key].format(value=value[:80]))
            continue
        if not _reader_field(key.strip()):
            continue
        for value in values:
            reason = custom_fields.refusal(key.strip(), value or "")
            if reason:
                lost.append(f"the custom field {key[:60]!r}: {reason}")
            elif len(kept) == custom_fields.MAX_FIELDS:
                lost.append(
                    f"the custom field {key[:60]!r}: a post keeps at most "
                    f"{custom_fields.MAX_FIELDS} custom fields"
                )
            else:
                kept.append((key.strip(), value or ""))
    return kept
