"""Addresses: what a slug may be, free post slugs, and the old addresses that answer with a 301.

The one home of the slug rule (`SLUG_PATTERN`, `slugify`) and of "a moved post or section
keeps its old address" (`address_moved`). The writer (`desk`), `sections` and the
WordPress importer (for WordPress's own old addresses) call these; nothing else builds a
slug or a redirect.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, unquote

from flask import current_app, has_app_context
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import joinedload
from text_unidecode import unidecode

from ..extensions import db
from ..models import RESERVED_SLUGS, Category, Post, Redirect, utcnow
from ..models.content import LIVE_STATUSES
from . import surrogate


def _mark_ranges() -> str:
    """The combining marks (Unicode category M) as a regex class body (\\U00000300-…).

    Python's \\w has letters and digits of every script but not the vowel signs and viramas
    that Devanagari, Arabic and others write words with; a slug keeps them.
    """
    ranges: list[tuple[int, int]] = []
    for code in range(0x300, 0x20000):
        # Variation selectors and enclosing marks dress emoji (❤️, 1️⃣), not words.
        selector = 0xFE00 <= code <= 0xFE0F
        if unicodedata.category(chr(code)) not in ("Mn", "Mc") or selector:
            continue
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return "".join(f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)


_MARKS = _mark_ranges()
# A slug is words of lower-case letters (any script, with their combining marks) and digits,
# joined by single hyphens: my-first-story, हिंदी-में-स्वास्थ्य, москва, 健康.
# Forms validate with this pattern too; change it here and in `slugify` together.
_SLUG_WORD = rf"(?:[^\W_]|[{_MARKS}])+"
SLUG_PATTERN = rf"^(?![^A-Z]*[A-Z]){_SLUG_WORD}(?:-{_SLUG_WORD})*$"
_SLUG = re.compile(SLUG_PATTERN)
_NOT_SLUG = re.compile(rf"(?:[^\w{_MARKS}]|_)+")
_NOT_ASCII_SLUG = re.compile(r"[^a-z0-9]+")
# An apostrophe joins a word (don't → dont; ночью, transliterated noch'iu → nochiu), as WordPress.
_APOSTROPHES = re.compile("['\u2019\u02bc`]")
# Latin letters with accents lose them, as WordPress's remove_accents does (café → cafe,
# straße → strasse); every other script keeps its letters.
_ACCENTED_LATIN = re.compile("[\u00c0-\u024f\u1e00-\u1eff]+")
MAX_POST_SLUG = 200


def is_slug(text: str) -> bool:
    """Whether text is a well-formed slug (lower-case, NFC, no separator but single hyphens)."""
    text = text or ""
    return bool(
        _SLUG.match(text) and text == text.lower() and unicodedata.is_normalized("NFC", text)
    )


def typed_slug(text: str) -> str:
    """A slug as a person typed or pasted it: trimmed, percent-decoded (copied from an address
    bar) and NFC, ready for `is_slug`."""
    text = (text or "").strip()
    if "%" in text:
        text = unquote(text)
    return unicodedata.normalize("NFC", text)


def _transliterating() -> bool:
    """Whether the site asks for ASCII slugs (SLUG_TRANSLITERATE)."""
    return has_app_context() and bool(current_app.config.get("SLUG_TRANSLITERATE"))


def slugify(text: str, max_length: int = 80, ascii_only: bool | None = None) -> str:
    """Turn a title into a slug: lower-case words of any script joined by hyphens ("" if none).

    Letters, digits and combining marks of every script are kept (NFC, lower-cased), accented
    Latin letters lose their accents; the rest (spaces, punctuation, symbols, emoji) separates
    words. With SLUG_TRANSLITERATE, or ascii_only, every script is written in ASCII
    (Москва → moskva).
    """
    text = unicodedata.normalize("NFC", text or "")
    if ascii_only if ascii_only is not None else _transliterating():
        text = _APOSTROPHES.sub("", unidecode(text))
        slug = _NOT_ASCII_SLUG.sub("-", text.lower()).strip("-")
    else:
        text = _APOSTROPHES.sub("", _ACCENTED_LATIN.sub(lambda m: unidecode(m.group()), text))
        slug = unicodedata.normalize("NFC", _NOT_SLUG.sub("-", text.lower()).strip("-"))
    return slug[:max_length].rstrip("-")


def named_slug(text: str, max_length: int = 80) -> str:
    """A slug for text that has no letters or digits (🎉 → party-popper), or "".

    Emoji and other symbols stay out of slugs; a title or tag made only of them is
    named by the symbols' Unicode names instead, so it still gets a readable slug.
    """
    names = []
    for char in unicodedata.normalize("NFC", text or ""):
        if unicodedata.category(char) in ("So", "Sm", "Sc", "Sk"):
            name = unicodedata.name(char, "")
            if name and name not in names:
                names.append(name)
    return slugify(" ".join(names), max_length, ascii_only=True)


def readable_slug(text: str, max_length: int = 80) -> str:
    """slugify(text), or, when text has no letters or digits, the symbols' names ("" if none)."""
    return slugify(text, max_length) or named_slug(text, max_length)


def wordpress_form(slug: str) -> str:
    """The slug as WordPress stores and exports it: UTF-8 percent-encoded, lower-case hex."""
    return quote(slug, safe="-").lower() if not slug.isascii() else slug


def unique_post_slug(base: str, exclude_id: int | None = None) -> str:
    """Return base, or base-2, base-3 … so that no other post has it."""
    base = base or "post"
    candidate, n = base, 1
    while True:
        query = select(Post.id).where(Post.slug == candidate)
        if exclude_id is not None:
            query = query.where(Post.id != exclude_id)
        if db.session.scalar(query) is None:
            return candidate
        n += 1
        candidate = numbered(base, n)


# -- Top-level addresses: pages (/about) beside sections and the site's own -------------------


def top_level_refusal(slug: str, page_id: int | None = None, section_id: int | None = None):
    """Why slug cannot be a page's (/about) or a section's slug, or None when it is free.

    The one rule both sides use: a page never takes a section's slug or a reserved word,
    and a section never takes a page's. page_id / section_id: the one being renamed.
    """
    if slug in RESERVED_SLUGS:
        return f"“{slug}” is part of the site's own addresses; choose another."
    section = select(Category.id).where(Category.slug == slug)
    if section_id is not None:
        section = section.where(Category.id != section_id)
    if db.session.scalar(section) is not None:
        return "A section already has that slug; choose another."
    page = select(Post.id).where(Post.slug == slug, Post.pages())
    if page_id is not None:
        page = page.where(Post.id != page_id)
    if db.session.scalar(page) is not None:
        return "A page already has that slug; choose another."
    return None


def unique_page_slug(base: str, exclude_id: int | None = None) -> str:
    """Return base, or base-2, base-3 … that no post has and no section or site address uses."""
    base = base or "page"
    candidate, n = base, 1
    while True:
        candidate = unique_post_slug(candidate, exclude_id)
        if top_level_refusal(candidate, page_id=exclude_id) is None:
            return candidate
        n += 1
        candidate = numbered(base, n)


def numbered(base: str, n: int, max_length: int = MAX_POST_SLUG) -> str:
    """The n-th form of a taken slug (base-2, base-3 …), cut to fit max_length."""
    return f"{base[: max_length - len(str(n)) - 1]}-{n}"


def is_form_of(slug: str, base: str) -> bool:
    """Whether slug is base itself or one of its numbered forms (base-2, base-3 …)."""
    if slug == base:
        return True
    _head, hyphen, n = slug.rpartition("-")
    return bool(hyphen) and n.isdigit() and int(n) >= 2 and numbered(base, int(n)) == slug


# -- Old addresses --------------------------------------------------------------------------


def normalise_path(path: str) -> str:
    """Return a path in the form redirects store it: decoded, NFC, no slashes at either end.

    /health/%E0%A4%B9 and /health/ह are one address, as browsers treat them.
    """
    path = unicodedata.normalize("NFC", unquote(path or ""))
    return path.strip().strip("/")[:500]


def composed_path(path: str) -> str | None:
    """The path percent-encoded in NFC, when it arrived in another form (else None)."""
    composed = unicodedata.normalize("NFC", path or "")
    return quote(composed, safe="/") if composed != path else None


def redirect_for(path: str) -> Redirect | None:
    """Return the redirect kept for an old address, if any (the answer is purged with them)."""
    surrogate.show(surrogate.REDIRECTS)
    return db.session.scalar(
        select(Redirect)
        .where(Redirect.path == normalise_path(path))
        .options(joinedload(Redirect.post).joinedload(Post.category), joinedload(Redirect.category))
    )


def old_section_address(path: str) -> tuple[str, bool] | None:
    """The slug of the section a WordPress category address leads to, and whether it asked
    for the feed: /category/<slug>/, nested /category/a/b/, each with /feed/ (else None).
    """
    parts = normalise_path(path).split("/")
    feed = len(parts) > 2 and parts[-1] == "feed"
    if feed:
        parts = parts[:-1]
    if len(parts) < 2 or parts[0] != "category":
        return None
    kept = redirect_for("/".join(parts))
    if kept is not None and kept.category is not None:
        return kept.category.slug, feed
    if len(parts) == 2:
        slug = db.session.scalar(select(Category.slug).where(Category.slug == parts[1]))
        if slug is not None:
            return slug, feed
    return None


def forget_address(path: str) -> None:
    """Drop a redirect: the address is live again (a post or section moved back to it)."""
    db.session.execute(delete(Redirect).where(Redirect.path == normalise_path(path)))


def stored_redirect(path: str) -> Redirect | None:
    """The redirect kept at an old address, if any (without loading where it leads)."""
    return db.session.scalar(select(Redirect).where(Redirect.path == normalise_path(path)))


def add_old_address(
    path: str, post: Post | None = None, section: Category | None = None
) -> Redirect:
    """Keep an old address that has no redirect yet (the caller looked) with a 301."""
    redirect = Redirect(path=normalise_path(path), post=post, category=section)
    db.session.add(redirect)
    return redirect


def remember_old_address(
    path: str, post: Post | None = None, section: Category | None = None
) -> Redirect:
    """Keep an old address so it answers with a 301 to the post or section."""
    existing = stored_redirect(path)
    if existing is None:
        return add_old_address(path, post=post, section=section)
    existing.post, existing.category = post, section
    return existing


def address_moved(
    old_path: str, new_path: str, post: Post | None = None, section: Category | None = None
) -> None:
    """A post or section moved: its new address is live, its old one answers with a 301."""
    if normalise_path(old_path) == normalise_path(new_path):
        return
    forget_address(new_path)
    remember_old_address(old_path, post=post, section=section)


def public_address(post: Post) -> str | None:
    """The address readers know a stored post by ("section/slug"), or None if it has none.

    Only a published or scheduled post has one; a draft moving about leaves nothing behind.
    """
    if post.id is None or not post.slug or post.status not in LIVE_STATUSES:
        return None
    return address_of(post)


def address_of(post: Post) -> str:
    """Where a post lives, without slashes: "section/slug" for an article, "slug" for a page."""
    return post.slug if post.is_page else f"{post.category.slug}/{post.slug}"


def post_moved(post: Post, old_address: str | None) -> None:
    """The one rule for a moved post or page: a public address it had keeps leading to it."""
    if old_address is not None:
        address_moved(old_address, address_of(post), post=post)


def _chunks(items: list, size: int = 500):
    """Split a list into IN (…) lists of a size every database takes."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def section_moved(section: Category, old_slug: str) -> int:
    """A section's slug changed: its page and every article in it keep their old addresses.

    Every post filed there gets one (not only live ones), so a post published later still
    answers at an address readers may have seen earlier. Returns how many articles moved.
    """
    db.session.flush()
    address_moved(f"category/{old_slug}", f"category/{section.slug}", section=section)
    rows = db.session.execute(
        select(Post.id, Post.slug).where(Post.category_id == section.id)
    ).all()
    if not rows:
        return 0
    # The new addresses are live now: forget any redirect that used them.
    for chunk in _chunks([f"{section.slug}/{slug}" for _, slug in rows]):
        db.session.execute(delete(Redirect).where(Redirect.path.in_(chunk)))
    old_paths = {f"{old_slug}/{slug}": post_id for post_id, slug in rows}
    for chunk in _chunks(list(old_paths)):
        db.session.execute(delete(Redirect).where(Redirect.path.in_(chunk)))
    now = utcnow()
    db.session.execute(
        insert(Redirect),
        [
            {"path": path, "post_id": post_id, "category_id": None, "created_at": now}
            for path, post_id in old_paths.items()
        ],
    )
    return len(old_paths)
