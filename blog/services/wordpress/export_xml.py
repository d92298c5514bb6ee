"""The WXR file's XML: elements, CDATA, WordPress's dates, and the channel's head and tail."""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import format_datetime
from typing import TextIO
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

from flask import current_app

from ...hosts import absolute_path
from ...models import utcnow

WXR_VERSION = "1.2"
NAMESPACES = {
    "excerpt": "http://wordpress.org/export/1.2/excerpt/",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "wfw": "http://wellformedweb.org/CommentAPI/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "wp": "http://wordpress.org/export/1.2/",
}
# Characters XML 1.0 does not allow, even inside CDATA.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_LOCAL_URL = re.compile(r"""(\s(?:src|href)\s*=\s*)(["'])(/[^/"'][^"']*)\2""", re.IGNORECASE)
_LOCAL_SRCSET = re.compile(r"""(\ssrcset\s*=\s*)(["'])([^"']*)\2""", re.IGNORECASE)


def _clean(text: str | None) -> str:
    """Text without the characters XML cannot carry."""
    return _NOT_XML.sub("", text or "")


def cdata(text: str | None) -> str:
    """Wrap text in CDATA, splitting any ']]>' it holds, as WordPress does."""
    return "<![CDATA[" + _clean(text).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def element(name: str, value: object, as_cdata: bool = False) -> str:
    """One element with its text."""
    if value is None:
        value = ""
    text = cdata(str(value)) if as_cdata else escape(_clean(str(value)))
    return f"<{name}>{text}</{name}>"


_PARAGRAPH_OPEN = re.compile(r"<p>")
_BLOCK_CLOSE = re.compile(r"\s*(</p>|</blockquote>)")
_BREAK = re.compile(r"<br\s*/?>\n?")
_REL = re.compile(r'\srel="[^"]*"')


def comment_content(body_html: str) -> str:
    """A comment's sanitised HTML as WordPress keeps a comment's text.

    Paragraphs a blank line apart and breaks as newlines (WordPress makes them
    again when it shows the comment); links, emphasis, code and quotes stay tags,
    links without their rel (WordPress writes its own).
    """
    text = _BLOCK_CLOSE.sub(lambda m: "\n\n" if m.group(1) == "</p>" else "</blockquote>\n\n",
                            body_html or "")
    text = _BREAK.sub("\n", _PARAGRAPH_OPEN.sub("", _REL.sub("", text)))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def wp_dates(value: datetime | None, zone: ZoneInfo) -> tuple[str, str]:
    """WordPress's local and GMT 'YYYY-MM-DD HH:MM:SS' for a time (zeros when unset)."""
    if value is None:
        return "0000-00-00 00:00:00", "0000-00-00 00:00:00"
    return (
        value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
        value.strftime("%Y-%m-%d %H:%M:%S"),
    )


class WxrOut:
    """Writes lines of a WXR file, with addresses made absolute on the site."""

    def __init__(self, out: TextIO, site: str, zone: ZoneInfo):
        """Write to out, with addresses on site and local times in zone."""
        self.out = out
        self.site = site.rstrip("/")
        self.zone = zone

    def line(self, text: str, depth: int = 0) -> None:
        """Write one line, indented."""
        self.out.write("\t" * depth + text + "\n")

    def absolute(self, url: str | None) -> str:
        """An address on this site made absolute, as WordPress keeps them."""
        return absolute_path(url, _root=self.site) if url else ""

    def absolute_html(self, markup: str) -> str:
        """Body HTML whose site-relative addresses are made absolute."""

        def attribute(match: re.Match) -> str:
            """Make one src or href absolute."""
            quote = match.group(2)
            return f"{match.group(1)}{quote}{self.absolute(match.group(3))}{quote}"

        def srcset(match: re.Match) -> str:
            """Make each address of a srcset absolute."""
            parts = []
            for candidate in match.group(3).split(","):
                bits = candidate.strip().split(" ", 1)
                bits[0] = self.absolute(bits[0])
                parts.append(" ".join(bits))
            return f"{match.group(1)}{match.group(2)}{', '.join(parts)}{match.group(2)}"

        return _LOCAL_SRCSET.sub(srcset, _LOCAL_URL.sub(attribute, markup or ""))

    def head(self) -> None:
        """The XML declaration, the rss element and the channel's description of the site."""
        config = current_app.config
        self.line('<?xml version="1.0" encoding="UTF-8" ?>')
        self.line("<!-- WordPress eXtended RSS, written by Circle for WordPress's importer -->")
        names = " ".join(f"xmlns:{p}={quoteattr(uri)}" for p, uri in NAMESPACES.items())
        self.line(f'<rss version="2.0" {names}>')
        self.line("<channel>")
        self.line(element("title", config.get("SITE_NAME", "")), 1)
        self.line(element("link", self.site), 1)
        self.line(element("description", config.get("SITE_SLOGAN", "")), 1)
        self.line(element("pubDate", format_datetime(utcnow())), 1)
        self.line(element("language", "en"), 1)
        self.line(element("wp:wxr_version", WXR_VERSION), 1)
        self.line(element("wp:base_site_url", self.site), 1)
        self.line(element("wp:base_blog_url", self.site), 1)

    def meta(self, key: str, value: str, depth: int) -> None:
        """One wp:postmeta."""
        self.line("<wp:postmeta>", depth)
        self.line(element("wp:meta_key", key, True), depth + 1)
        self.line(element("wp:meta_value", value, True), depth + 1)
        self.line("</wp:postmeta>", depth)

    def tail(self) -> None:
        """Close the channel and the rss element."""
        self.line("</channel>")
        self.line("</rss>")

