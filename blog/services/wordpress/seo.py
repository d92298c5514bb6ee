"""The SEO plugins' custom fields (wp:postmeta): a post's search title and description.

Yoast, Rank Math and All in One SEO keep a post's search title and description as
custom fields; they fill the post's `seo_title` and `seo_description`. Their template
variables are filled in where Circle knows the answer (the post's title, excerpt,
section) and dropped where Circle's page head adds them itself (the site's name and the
separator: the head reads "<title> · <site name>"); a value with a variable Circle cannot
fill is skipped, and the report says so. The other custom fields: see postmeta.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .markup import plain
from .records import WxrItem

# In the order they are tried: the first plugin with a value wins.
TITLE_KEYS = ("_yoast_wpseo_title", "rank_math_title", "_aioseo_title", "_aioseop_title")
DESCRIPTION_KEYS = (
    "_yoast_wpseo_metadesc",
    "rank_math_description",
    "_aioseo_description",
    "_aioseop_description",
)
MAX_TITLE = 200
MAX_DESCRIPTION = 300

# Yoast writes %%name%%, Rank Math %name%, All in One SEO #name.
_VARIABLE = re.compile(r"%%([a-z_]+)%%|%([a-z_]+)%|#([a-z_]+)")
_TITLE = {"title", "post_title"}
_EXCERPT = {"excerpt", "excerpt_only", "post_excerpt", "seo_description"}
_SECTION = {"category", "primary_category", "categories", "post_category"}
# What the page head adds itself, or what means nothing on one page.
_DROPPED = {
    "sitename", "site_title", "sitedesc", "tagline", "site_description", "sep",
    "separator_sa", "separator", "page", "pagenumber", "pagetotal", "page_number",
}
_LOOSE_ENDS = " \t-–—|·:•»«/~*"


@dataclass
class PostFacts:
    """What a template variable can stand for."""

    title: str
    excerpt: str
    section: str


def _filled(value: str, facts: PostFacts) -> tuple[str, str | None]:
    """The value with its template variables filled in, or ("", the variable it cannot fill)."""
    unknown: list[str] = []

    def fill(match: re.Match) -> str:
        name = next(g for g in match.groups() if g)
        if name in _TITLE:
            return facts.title
        if name in _EXCERPT:
            return facts.excerpt
        if name in _SECTION:
            return facts.section
        if name in _DROPPED:
            return " "
        if match.group(3) is not None:  # '#' followed by a word may be plain text (#1, #tag)
            return match.group(0)
        unknown.append(match.group(0))
        return ""

    text = _VARIABLE.sub(fill, value)
    if unknown:
        return "", unknown[0]
    return " ".join(text.split()).strip(_LOOSE_ENDS), None


def _seo_value(
    item: WxrItem, keys: tuple[str, ...], facts: PostFacts, what: str, limit: int,
    lost: list[str],
) -> str:
    """The first plugin value of keys, filled in, or "" (the reason in lost)."""
    for key in keys:
        raw = plain(item.meta_value(key))
        if not raw:
            continue
        value, unknown = _filled(raw, facts)
        if unknown is not None:
            lost.append(
                f"the SEO {what} {raw!r} ({key}): Circle cannot fill in {unknown}"
            )
            return ""
        if value == facts.title and what == "title":
            return ""  # the plugin's default: the head shows the title already
        if len(value) > limit:
            lost.append(f"the SEO {what} ({key}) was cut to {limit} characters")
            value = value[: limit - 1].rstrip() + "…"
        return value
    return ""


def seo_fields(item: WxrItem, facts: PostFacts, lost: list[str]) -> tuple[str, str]:
    """The post's SEO title and description from the SEO plugins' custom fields."""
    title = _seo_value(item, TITLE_KEYS, facts, "title", MAX_TITLE, lost)
    description = _seo_value(
        item, DESCRIPTION_KEYS, facts, "description", MAX_DESCRIPTION, lost
    )
    return title, description

