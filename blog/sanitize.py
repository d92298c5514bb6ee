"""The sanitiser: the only module that imports bleach, and its allowlist."""

from __future__ import annotations

import html
import re
from functools import partial
from urllib.parse import urlsplit

import bleach
from bleach.linkifier import LinkifyFilter

# What the rich-text editor produces, and nothing more.
ALLOWED_TAGS = frozenset(
    {
        "a", "p", "div", "br", "strong", "b", "em", "i", "u", "del", "s", "sub", "sup",
        "h2", "h3", "h4", "blockquote", "pre", "code", "ul", "ol", "li", "hr",
        "figure", "figcaption", "img", "span",
        "table", "thead", "tbody", "tr", "th", "td",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title", "rel"],
    "img": ["src", "alt", "width", "height", "srcset", "sizes", "loading"],
    "ol": ["start"],
    "th": ["colspan", "rowspan"],
    "td": ["colspan", "rowspan"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})

_WORD = re.compile(r"\w+", re.UNICODE)
_TAG = re.compile(r"<[^>]*>")


def _is_external(href: str, site_host: str | None) -> bool:
    """Return True when href leads off this site."""
    parts = urlsplit(href)
    if not parts.netloc:
        return False
    return site_host is None or parts.hostname != site_host


def _link_rel(site_host: str | None, attrs: dict, new: bool = False) -> dict:
    """Give every link rel=noopener, and external ones nofollow too."""
    href = attrs.get((None, "href"), "")
    rel = {"noopener"}
    if _is_external(href, site_host):
        rel.add("nofollow")
    attrs[(None, "rel")] = " ".join(sorted(rel))
    return attrs


def _comment_rel(attrs: dict, new: bool = False) -> dict:
    """Links written by readers are never endorsed."""
    attrs[(None, "rel")] = "nofollow ugc noopener"
    return attrs


def clean_post_html(raw: str, site_host: str | None = None) -> str:
    """Return post body HTML reduced to the allowlist, with safe links."""
    cleaner = bleach.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        filters=[
            partial(
                LinkifyFilter,
                callbacks=[partial(_link_rel, site_host)],
                skip_tags=["pre", "code"],
                parse_email=False,
            )
        ],
    )
    return cleaner.clean(raw or "").strip()


def clean_comment_text(text: str) -> str:
    """Turn a reader's plain text into safe HTML: paragraphs, breaks and links."""
    escaped = html.escape((text or "").strip())
    paragraphs = [p.replace("\n", "<br>") for p in re.split(r"\n\s*\n", escaped) if p.strip()]
    joined = "".join(f"<p>{p}</p>" for p in paragraphs)
    cleaner = bleach.Cleaner(
        tags={"p", "br", "a"},
        attributes={"a": ["href", "rel"]},
        protocols={"http", "https"},
        strip=True,
        filters=[partial(LinkifyFilter, callbacks=[_comment_rel], parse_email=False)],
    )
    return cleaner.clean(joined)


def plain_text(markup: str) -> str:
    """Return the visible text of sanitised HTML, whitespace collapsed."""
    text = html.unescape(_TAG.sub(" ", markup or ""))
    return " ".join(text.split())


def word_count(markup: str) -> int:
    """Count the words a reader would read."""
    return len(_WORD.findall(plain_text(markup)))
