"""Importing sections and tags: WordPress categories become sections, tags stay tags.

A category goes to the section --map names for it or a parent, else the section
with its top-level parent's slug, else the one an earlier run chose (remembered by
the redirect from its old address), else --unknown-section, else a new section.
Pages have no section: they become Circle pages (see posts.py).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING
from urllib.parse import unquote

from sqlalchemy import func, select

from ...extensions import db
from ...models import Category, Redirect, Tag
from .. import ServiceError, desk, slugs
from .. import sections as section_service
from .markup import plain
from .records import WxrCategory
from .redirects import keep_redirect

if TYPE_CHECKING:
    from .context import ImportContext


def _category_chain(context: ImportContext, nicename: str) -> list[str]:
    """The category and its parents, up to the top-level one."""
    chain = [nicename]
    while True:
        parent = context.scan.categories.get(chain[-1])
        if parent is None or not parent.parent or parent.parent in chain:
            return chain
        chain.append(parent.parent)


def _remembered_section(path: str) -> Category | None:
    """The section an earlier run sent an old category address to."""
    return db.session.scalar(
        select(Category)
        .join(Redirect, Redirect.category_id == Category.id)
        .where(Redirect.path == slugs.normalise_path(path))
    )


def _new_section(context: ImportContext, category: WxrCategory) -> Category:
    """Create a section for a WordPress category, after the existing ones."""
    base = slugs.slugify(unquote(category.nicename)) or slugs.slugify(
        category.name
    ) or "section"
    slug, n = base, 1
    while slugs.top_level_refusal(slug) is not None:  # reserved, a section's or a page's
        n += 1
        slug = slugs.numbered(base, n, section_service.MAX_SLUG)
    name = " ".join(html.unescape(category.name).split())[:80] or slug
    base_name, n = name, 1
    while db.session.scalar(
        select(Category.id).where(func.lower(Category.name) == name.lower())
    ):
        n += 1
        name = f"{base_name[:74]} ({n})"
    position = (db.session.scalar(select(func.max(Category.position))) or 0) + 1
    section = Category(
        name=name,
        slug=slug,
        description=plain(category.description),
        position=position,
    )
    db.session.add(section)
    db.session.flush()
    context.report.created["section"] += 1
    context.report.notes.append(
        f"section {name!r} (/category/{slug}) was created for the WordPress category "
        f"{category.nicename!r}"
    )
    return section


def section_for_category(context: ImportContext, nicename: str) -> Category:
    """The section a WordPress category goes to, by the rules in the module notes."""
    if nicename in context.sections:
        return context.sections[nicename]
    chain = _category_chain(context, nicename)
    section = next((context.section_map[c] for c in chain if c in context.section_map), None)
    top = chain[-1]
    top_slug = slugs.slugify(unquote(top))
    if section is None and top_slug:
        section = db.session.scalar(select(Category).where(Category.slug == top_slug))
    if section is None:
        section = _remembered_section(f"category/{top}")
    if section is None:
        section = context.unknown_section
    if section is None:
        category = context.scan.categories.get(top) or WxrCategory(nicename=top, name=top)
        section = _new_section(context, category)
    path = "category/" + "/".join(reversed(chain))
    if slugs.normalise_path(path) != f"category/{section.slug}":
        keep_redirect(context, path, section=section)
    context.sections[nicename] = section
    return section


def tags_for(context: ImportContext, names: list[str]) -> list[Tag]:
    """The tags for these names, created when new."""
    found: dict[str, Tag] = {}
    for raw in names:
        # WordPress allows longer names: keep the first 80 characters rather than refuse.
        text = " ".join(html.unescape(raw or "").split())[: desk.MAX_TAG]
        try:
            name, slug = desk.tag_name_and_slug(text)
        except ServiceError as refusal:
            name, slug = text, slugs.named_slug(text, desk.MAX_TAG)
            if not slug:
                context.report.not_brought_over.append(f"the tag {text!r}: {refusal}")
                continue
            if slug not in context.tags:
                context.report.notes.append(
                    f"the tag {text!r} has no letters or digits: its slug is {slug!r}"
                )
        if slug in found:
            continue
        known = context.tags.get(slug)
        tag = context.known.row(Tag, known) if known else None
        tag = tag or db.session.scalar(select(Tag).where(Tag.slug == slug))
        if tag is None:
            tag = Tag(name=name, slug=slug)
            db.session.add(tag)
            db.session.flush()
            context.report.created["tag"] += 1
        context.tags[slug] = tag.id
        context.known.held[(Tag, tag.id)] = tag
        found[slug] = tag
    return sorted(found.values(), key=lambda t: t.slug)


def import_unused_terms(context: ImportContext) -> None:
    """Sections for the top-level categories no item is in, and the tags no post has.

    A category some item is in already went where the rules say (a section, or a tag
    beside the post's section); WordPress's default "Uncategorized" gets no section of
    its own unless a post is in it. A section of a Circle export with no posts yet
    comes back this way.
    """
    for nicename, category in context.scan.categories.items():
        unused = nicename not in context.scan.used_categories
        if unused and not category.parent and nicename != "uncategorized":
            section_for_category(context, nicename)
    unused = [name for slug, name in context.scan.tags.items() if slug not in context.tags]
    tags_for(context, unused)
